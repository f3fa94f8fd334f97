# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""In-process tests of kubeshift.cilium.netfilter_purge with the node's commands simulated.

The simulated node keeps each backend's save text, the nft tables, IPVS services, the kube-ipvs0 link and the
ipsets in memory and applies the module's commands to them, so the tests check end states, not call lists.
Real binaries in namespaces are exercised by tests/integration/test_netfilter_purge.py.
"""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.kubeshift.cilium.plugins.module_utils import _netfilter as nf
from ansible_collections.kubeshift.cilium.plugins.modules import netfilter_purge
from ansible_collections.kubeshift.cilium.tests.unit.plugins.module_utils.noflush_restore import apply_noflush
from ansible_collections.kubeshift.cilium.tests.unit.plugins.modules.module_harness import run_main

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "module_utils", "fixtures", "netfilter")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


def _replace_tables(current, new_text):
    """iptables-restore semantics: each table in new_text replaces the same table in current."""
    cur = nf.parse_save(current, "current")
    new = nf.parse_save(new_text, "input")
    sections = {t.name: cur.section(t) for t in cur.tables}
    for table in new.tables:
        sections[table.name] = new.section(table)
    return "".join(sections[name] for name in sorted(sections))


def _canonical(text):
    """Tables sorted, comment lines gone (what a restore round trip yields); unparsable text stays as it is."""
    try:
        return _replace_tables("", text)
    except nf.NetfilterParseError:
        return text


class FakeNode:
    def __init__(self, saves=None, nft_tables=None, ipvs=None, kube_ipvs0=None, ipsets=None, missing=(),
                 fail_restore_on=None):
        self.saves = dict(saves or {})
        self.nft_tables = dict(nft_tables or {})
        self.ipvs = ipvs  # None = not available, else list of lines
        self.kube_ipvs0 = kube_ipvs0  # None = no link, else list of addresses
        self.ipsets = dict(ipsets or {})
        self.missing = set(missing)
        self.fail_restore_on = fail_restore_on  # (binary, call number) that applies then fails
        self.calls = []
        self.restore_count = {}

    def find(self, name):
        return None if name in self.missing else "/fake/" + name

    def snapshot(self):
        saves = {k: _canonical(v) for k, v in self.saves.items()}
        return json.dumps([saves, sorted(self.nft_tables.items()), self.ipvs, self.kube_ipvs0,
                           sorted(self.ipsets.items())], sort_keys=True)

    def run(self, argv, data=None):
        self.calls.append((argv, data))
        tool = os.path.basename(argv[0])
        args = argv[1:]
        if tool.endswith("-save") and args == ["-c"]:
            return 0, self.saves.get(tool, ""), ""
        if tool.endswith("-restore") and tool.startswith(("iptables", "ip6tables")):
            count = self.restore_count[tool] = self.restore_count.get(tool, 0) + 1
            save = tool.replace("-restore", "-save")
            if "--noflush" in args:
                after, err = apply_noflush(self.saves.get(save, ""), data)
                if after is None:
                    return 2, "", "%s: %s\nError occurred at line: 4\n" % (tool, err)
                self.saves[save] = after
            else:
                self.saves[save] = _replace_tables(self.saves.get(save, ""), data)
            if self.fail_restore_on == (tool, count):
                return 1, "", "iptables-restore: line 42 failed"
            return 0, "", ""
        if tool == "nft":
            if args == ["list", "tables"]:
                return 0, "".join("table %s %s\n" % k for k in self.nft_tables), ""
            if args[:2] == ["list", "table"]:
                if (args[2], args[3]) not in self.nft_tables:
                    return 1, "", "Error: No such file or directory\nlist table %s %s\n" % (args[2], args[3])
                return 0, self.nft_tables[(args[2], args[3])], ""
            if args == ["list", "ruleset"]:
                return 0, "".join(self.nft_tables.values()), ""
            if args[:2] == ["delete", "table"]:
                del self.nft_tables[(args[2], args[3])]
                return 0, "", ""
            if args == ["-f", "-"]:
                lines = data.splitlines(True)
                family, name = lines[0].split()[1:3]
                self.nft_tables[(family, name)] = "".join(lines[2:])
                return 0, "", ""
        if tool == "ipvsadm":
            if self.ipvs is None:
                return 2, "", "Can't initialize ipvs: Protocol not available\n"
            if args == ["-Sn"]:
                return 0, "".join(line + "\n" for line in self.ipvs), ""
            if args[0] == "-D":
                key = args[1:3]
                self.ipvs = [line for line in self.ipvs if line.split()[1:3] != key]
                return 0, "", ""
            if args == ["-R"]:
                self.ipvs.extend(data.splitlines())
                return 0, "", ""
        if tool == "ip":
            if args[:4] == ["-o", "addr", "show", "dev"]:
                if self.kube_ipvs0 is None:
                    return 1, "", 'Device "kube-ipvs0" does not exist.\n'
                return 0, "".join("7: kube-ipvs0    inet %s/32 scope global kube-ipvs0\n" % a
                                  for a in self.kube_ipvs0), ""
            if args[:2] == ["link", "del"]:
                self.kube_ipvs0 = None
                return 0, "", ""
            if args[:3] == ["link", "show", "dev"]:
                return (0, "", "") if self.kube_ipvs0 is not None else (1, "", "does not exist")
            if args[:2] == ["link", "add"]:
                return 2, "", "Error: Unknown device type.\n"
        if tool == "ipset":
            if args == ["list", "-n"]:
                return 0, "".join(n + "\n" for n in self.ipsets), ""
            if args == ["save"]:
                return 0, "".join(self.ipsets.values()), ""
            if args[0] == "destroy":
                del self.ipsets[args[1]]
                return 0, "", ""
            if args[:2] == ["restore", "-exist"]:
                for line in data.splitlines():
                    name = line.split()[1]
                    self.ipsets[name] = self.ipsets.get(name, "") + line + "\n"
                return 0, "", ""
        raise AssertionError("unexpected command %r" % (argv,))


def ipsets_from_fixture():
    sets = {}
    for line in fixture("ipset.save").splitlines():
        name = line.split()[1]
        sets[name] = sets.get(name, "") + line + "\n"
    return sets


def full_node(**kwargs):
    saves = {"iptables-legacy-save": fixture("legacy-iptables-mode.v4"),
             "iptables-nft-save": fixture("nft-ipvs-mode.v4"),
             "ip6tables-nft-save": fixture("nft-iptables-mode.v6")}
    listing = fixture("nft-tables.nft")
    tables = {}
    for chunk in listing.split("\ntable ")[0:]:
        text = chunk if chunk.startswith("table ") else "table " + chunk
        family, name = text.split()[1:3]
        tables[(family, name)] = text.rstrip("\n") + "\n"
    ipvs = fixture("ipvsadm-Sn.txt").splitlines()
    return FakeNode(saves=saves, nft_tables=tables, ipvs=ipvs,
                    kube_ipvs0=["10.96.0.1", "10.96.0.10", "fd00:10:96::1"], ipsets=ipsets_from_fixture(), **kwargs)


def run_module(node, args, check=False, diff=False, monkeypatch=None):
    params = dict(args)
    params["_ansible_check_mode"] = check
    params["_ansible_diff"] = diff
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(netfilter_purge.Node, "find", lambda self, name: node.find(name))
        mp.setattr(netfilter_purge.Node, "run", lambda self, argv, data=None: node.run(argv, data))
        return run_main(netfilter_purge.main, params)


def test_purge_everything_then_idempotent(tmp_path):
    node = full_node()
    failed, result = run_module(node, {"backup_dir": str(tmp_path)})
    assert not failed and result["changed"]
    assert ":KUBE-SERVICES" not in node.saves["iptables-legacy-save"]
    assert "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT" in node.saves["iptables-legacy-save"]
    assert sorted(node.nft_tables) == [("inet", "user-firewall")]
    assert sorted(result["nft_tables_removed"]) == ["ip flannel-ipv4", "ip kube-proxy", "ip6 kube-proxy"]
    assert result["ipvs"]["status"] == "ok"
    assert result["ipvs"]["services_removed"] == ["-t 10.96.0.1:443", "-t 10.96.0.10:53", "-u 10.96.0.10:53",
                                                  "-t [fd00:10:96::1]:443"]
    assert result["ipvs"]["services_kept"] == ["-t 10.77.0.12:30080", "-t 192.168.60.10:80", "-f 100"]
    assert [line for line in node.ipvs if line.startswith("-A")] == ["-A -t 10.77.0.12:30080 -s rr",
                                                                     "-A -t 192.168.60.10:80 -s wlc", "-A -f 100 -s rr"]
    assert node.kube_ipvs0 is None and result["ipvs"]["link_removed"]
    assert list(node.ipsets) == ["admin-allow"]
    backup = result["backup_dir"]
    assert os.path.dirname(backup) == str(tmp_path) and os.path.basename(backup).startswith("netfilter-")
    manifest = json.load(open(os.path.join(backup, "manifest.json")))
    assert manifest["ipsets"]["destroyed"] == result["ipsets_removed"]
    assert open(os.path.join(backup, "iptables-legacy-save.v4")).read() == fixture("legacy-iptables-mode.v4")
    # second run: nothing left, no new backup
    failed, again = run_module(node, {"backup_dir": str(tmp_path)})
    assert not failed and not again["changed"] and again["backup_dir"] is None
    assert len(os.listdir(str(tmp_path))) == 1


def test_check_mode_changes_nothing_and_diffs(tmp_path):
    node = full_node()
    before = node.snapshot()
    failed, result = run_module(node, {"backup_dir": str(tmp_path / "b")}, check=True, diff=True)
    assert not failed and result["changed"]
    assert node.snapshot() == before
    assert not (tmp_path / "b").exists()
    diff = result["diff"]["before"]
    assert "# iptables-legacy ipv4 table nat\n" in diff
    assert "-j KUBE-SVC-NPX46M4PTMTKRN6Y" in diff and "--dport 22 -j ACCEPT" not in diff
    assert "# nft table ip kube-proxy\n" in diff and "# ipset KUBE-CLUSTER-IP" in diff
    assert result["diff"]["after"] == ""
    assert not any(os.path.basename(argv[0]).endswith("-restore") for argv, dummy in node.calls)


def test_restore_failure_rolls_back_everything(tmp_path):
    node = full_node(fail_restore_on=("iptables-legacy-restore", 2))
    before = node.snapshot()
    failed, result = run_module(node, {"backup_dir": str(tmp_path)})
    assert failed
    assert "iptables-legacy-restore (ipv4) failed for table filter: iptables-restore: line 42 failed" in result["msg"]
    assert "restored from the backup %s" % tmp_path in result["msg"]
    assert node.snapshot() == before


def test_parse_error_changes_nothing(tmp_path):
    node = full_node()
    node.saves["ip6tables-nft-save"] = fixture("malformed-truncated.v4")
    before = node.snapshot()
    failed, result = run_module(node, {"backup_dir": str(tmp_path)})
    assert failed
    assert result["msg"].startswith("ip6tables-nft-save (ipv6): table")
    assert "truncated; nothing was changed" in result["msg"]
    assert node.snapshot() == before and os.listdir(str(tmp_path)) == []


def test_node_without_tools_or_ipvs(tmp_path):
    node = FakeNode(missing={"iptables-legacy-save", "iptables-nft-save", "ip6tables-legacy-save",
                             "ip6tables-nft-save", "iptables-save", "ip6tables-save", "nft", "ipset"})
    failed, result = run_module(node, {"backup_dir": str(tmp_path)})
    assert not failed and not result["changed"]
    assert result["ipvs"]["status"] == "not available"
    assert "Protocol not available" in result["ipvs"]["message"]
    assert result["backends"]["legacy"]["ipv4"] == {"present": False, "usable": False, "has_rules": False}
    node.missing.add("ipvsadm")
    failed, result = run_module(node, {"backup_dir": str(tmp_path)})
    assert result["ipvs"]["status"] == "not installed"


def test_owner_selection_reports_unowned(tmp_path):
    node = full_node()
    failed, result = run_module(node, {"backup_dir": str(tmp_path), "owners": ["flannel"]})
    assert not failed
    assert ":KUBE-SERVICES - [0:0]" in node.saves["iptables-legacy-save"]
    assert "FLANNEL" not in node.saves["iptables-legacy-save"]
    assert ("ip", "kube-proxy") in node.nft_tables and ("ip", "flannel-ipv4") not in node.nft_tables
    assert result["ipvs"]["status"] == "skipped" and node.kube_ipvs0 is not None
    assert len(node.ipsets) == len(ipsets_from_fixture())
    owners = {(u["backend"], u["family"], u["table"], u["chain"]): u["owner"] for u in result["unowned"]}
    assert owners[("legacy", "ipv4", "nat", "KUBE-SERVICES")] == "kube-proxy"


def test_restore_latest_puts_back_what_went(tmp_path):
    node = full_node()
    original = node.snapshot()
    failed, first = run_module(node, {"backup_dir": str(tmp_path)})
    assert not failed and first["changed"]
    failed, check = run_module(node, {"backup_dir": str(tmp_path), "restore_from": "latest"}, check=True, diff=True)
    assert not failed and check["changed"] and "KUBE-SERVICES" in check["diff"]["after"]
    failed, result = run_module(node, {"backup_dir": str(tmp_path), "restore_from": "latest"})
    assert not failed and result["changed"], result
    assert result["backup_dir"] == first["backup_dir"]
    restored = json.loads(node.snapshot())
    expected = json.loads(original)
    # iptables, nft tables, ipsets and IPVS services are back; kube-ipvs0 cannot be re-created without dummy
    assert restored[0] == expected[0]
    assert restored[1] == expected[1]
    assert sorted(restored[2]) == sorted(expected[2])
    assert restored[4] == expected[4]
    failed, again = run_module(node, {"backup_dir": str(tmp_path), "restore_from": "latest"})
    assert not failed and not again["changed"]


def test_restore_errors(tmp_path):
    node = full_node()
    failed, result = run_module(node, {"backup_dir": str(tmp_path / "none"), "restore_from": "latest"})
    assert failed and "does not exist" in result["msg"]
    bad = tmp_path / "netfilter-20260101T000000Z"
    bad.mkdir()
    (bad / "manifest.json").write_text("{not json")
    failed, result = run_module(node, {"backup_dir": str(tmp_path), "restore_from": str(bad)})
    assert failed and "is not valid JSON" in result["msg"]


def test_unknown_owner_is_rejected(tmp_path):
    failed, result = run_module(full_node(), {"backup_dir": str(tmp_path), "owners": ["calico"]})
    assert failed and "owners" in result["msg"] and "calico" in result["msg"]
