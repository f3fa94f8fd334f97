# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kubeshift.cilium.netfilter_purge against real iptables/nft/ipset binaries in namespace nodes.

Needs root. Nodes come from tests/utils/netns-nodes.sh (own prefix "h4nf"); nothing runs in the host's network
namespace, and a host snapshot (links, routes, every backend's rules, nft ruleset) is compared before and after.
Run: `. tests/utils/env.sh && python -m pytest tests/integration/test_netfilter_purge.py -q`
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(REPO, "tests", "unit", "plugins", "module_utils", "fixtures", "netfilter")
NETNS = os.path.join(REPO, "tests", "utils", "netns-nodes.sh")
PREFIX = "h4nf"
LAB = "/run/kubeshift-lab/" + PREFIX
SAVES = ("iptables-legacy-save", "ip6tables-legacy-save", "iptables-nft-save", "ip6tables-nft-save")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for namespace nodes")

# Independent oracle for the default owners (kube-proxy, flannel, cni-portmap) on these fixtures: the names a
# purge must remove, written out by hand rather than taken from the planner.
OWNED_CHAIN = (r"KUBE-(SERVICES|NODEPORTS|POSTROUTING|MARK-MASQ|MARK-DROP|FORWARD|PROXY-FIREWALL|PROXY-CANARY|"
               r"EXTERNAL-SERVICES|LOAD-BALANCER|NODE-PORT|SOURCE-RANGES-FIREWALL|IPVS-FILTER|"
               r"(SVC|SEP|EXT|FW|XLB|SVL)-[A-Z0-9]+)|FLANNEL-[A-Z]+|CNI-[A-Za-z0-9-]+")
OWNED_LINE = re.compile(r'^(:(%s) - |(\[\d+:\d+\] )?-A (%s) |.* -[jg] (%s)( |$))' % (OWNED_CHAIN, OWNED_CHAIN, OWNED_CHAIN))
OWNED_COMMENT = re.compile(r'--comment "(flanneld masq|flanneld forward|CNI portfwd[^"]*)"')
NFT_COUNTERS = re.compile(r"counter packets \d+ bytes \d+")
QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
# kube-proxy's KUBE-FIREWALL in the nat table (IPVS mode); the filter table's KUBE-FIREWALL is kubelet's.
NAT_FIREWALL = re.compile(r"^(:KUBE-FIREWALL - |(\[\d+:\d+\] )?-A KUBE-FIREWALL |.* -[jg] KUBE-FIREWALL( |$))")


def owned(line, table):
    """Oracle: does a purge with the default owners remove this save line? (Quoted text never names a target.)"""
    unquoted = QUOTED.sub('""', line)
    return bool(OWNED_LINE.match(unquoted) or OWNED_COMMENT.search(line)
                or (table == "nat" and NAT_FIREWALL.match(unquoted)))


def sh(cmd, check=True, data=None):
    proc = subprocess.run(cmd, shell=isinstance(cmd, str), input=data, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError("%s failed (%d): %s %s" % (cmd, proc.returncode, proc.stdout, proc.stderr))
    return proc


def pid(node):
    with open(os.path.join(LAB, node, "pid")) as handle:
        return handle.read().strip()


def in_node(node, script, check=True, data=None):
    return sh(["nsenter", "-t", pid(node), "-n", "-m", "-u", "-i", "--", "sh", "-c", script], check=check, data=data)


def fixture_path(name):
    return os.path.join(FIXTURES, name)


def host_snapshot():
    out = sh("{ ip -d link; ip addr; ip route; ip -6 route; iptables-legacy-save; ip6tables-legacy-save; "
             "iptables-nft-save; ip6tables-nft-save; nft list ruleset; ipset list -n; } 2>&1 | grep -v '^#' "
             "| sed -E 's/\\[[0-9]+:[0-9]+\\]//g'", check=False).stdout
    return out


COUNTERS = re.compile(r"\[\d+:\d+\]")


def node_state(node, counters=False):
    """Every backend's save (comment lines dropped), per-table nft listings, ipsets.

    Counters are zeroed unless asked for: the node's own traffic (Ansible's connection) ticks some of them between
    two saves. Tests check separately that counters of quiet rules survive.
    """
    state = {}
    for save in SAVES:
        text = in_node(node, "%s -c" % save).stdout
        text = "".join(line for line in text.splitlines(True) if not line.startswith("#"))
        state[save] = text if counters else COUNTERS.sub("[0:0]", text)
    tables = in_node(node, "nft list tables").stdout.split("\n")
    state["nft"] = {t: in_node(node, "nft list %s" % t).stdout for t in sorted(x for x in tables if x)}
    if not counters:  # iptables-nft rules show as "counter packets N bytes M" in nft listings
        state["nft"] = {t: NFT_COUNTERS.sub("counter packets 0 bytes 0", text) for t, text in state["nft"].items()}
    state["ipset"] = in_node(node, "ipset save").stdout
    return state


def tables_of(save_text):
    """Split a save into {table: text} so table order (which differs between backends) does not matter."""
    result, name, buf = {}, None, []
    for line in save_text.splitlines(True):
        if line.startswith("*"):
            name, buf = line.strip()[1:], [line]
        elif name:
            buf.append(line)
            if line.strip() == "COMMIT":
                result[name] = "".join(buf)
                name = None
    return result


def ansible(node, args, check=False, diff=False):
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
               ANSIBLE_HOST_KEY_CHECKING="0")
    cmd = ["ansible", node, "-i", os.path.join(LAB, "inventory.ini"), "-m", "kubeshift.cilium.netfilter_purge"]
    if args:
        cmd += ["-a", json.dumps(args)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("ansible output is not JSON: %s %s" % (proc.stdout[-2000:], proc.stderr[-2000:]))
    return data["plays"][0]["tasks"][0]["hosts"][node]


@pytest.fixture(scope="module")
def lab():
    before = host_snapshot()
    env = dict(os.environ, NETNS_PREFIX=PREFIX, NETNS_LAB=LAB)
    subprocess.run([NETNS, "down"], env=env, capture_output=True, check=False)
    sh_env = subprocess.run([NETNS, "up", "leg", "nft", "mix"], env=env, capture_output=True, text=True, check=False)
    assert sh_env.returncode == 0, sh_env.stderr
    try:
        yield LAB
    finally:
        subprocess.run([NETNS, "down"], env=env, capture_output=True, check=False)
        assert host_snapshot() == before, "the host's links, routes or rules changed"


def load_iptables(node, backend):
    in_node(node, "ipset restore < %s" % fixture_path("ipset.save"))
    if backend == "legacy":
        in_node(node, "iptables-legacy-restore -c < %s" % fixture_path("legacy-iptables-mode.v4"))
        in_node(node, "ip6tables-legacy-restore -c < %s" % fixture_path("nft-iptables-mode.v6"))
    else:
        in_node(node, "iptables-nft-restore -c < %s" % fixture_path("nft-ipvs-mode.v4"))
        in_node(node, "ip6tables-nft-restore -c < %s" % fixture_path("nft-iptables-mode.v6"))


def assert_purged_exactly(before, after):
    """after = before minus exactly the owned lines (oracle), all other lines byte-identical, order kept."""
    for save in SAVES:
        b_tables, a_tables = tables_of(before[save]), tables_of(after[save])
        assert sorted(b_tables) == sorted(a_tables), save
        for name, text in b_tables.items():
            expected = "".join(line for line in text.splitlines(True) if not owned(line, name))
            assert a_tables[name] == expected, "%s table %s" % (save, name)


def test_legacy_node_purge_check_idempotence_restore(lab):
    node = "leg"
    load_iptables(node, "legacy")
    original = node_state(node)
    assert "KUBE-SVC-NPX46M4PTMTKRN6Y" in original["iptables-legacy-save"]

    check = ansible(node, {}, check=True, diff=True)
    assert check["changed"] and not check.get("failed"), check
    assert node_state(node) == original
    assert "# iptables-legacy ipv4 table nat" in check["diff"]["before"]
    assert in_node(node, "ls /var/lib/kubeshift/backups 2>/dev/null || true").stdout == ""

    result = ansible(node, {})
    assert result["changed"] and not result.get("failed"), result
    after = node_state(node)
    assert_purged_exactly(original, after)
    with_counters = node_state(node, counters=True)["iptables-legacy-save"]
    assert "[64:3840] -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n" in with_counters
    assert "[13:780] -A f2b-sshd -s 203.0.113.7/32 -j REJECT" in with_counters
    assert ":INPUT DROP [312:18720]" in with_counters
    assert ":KUBE-ROUTER-INPUT - " in after["iptables-legacy-save"]  # not selected: kept and reported
    assert {"backend": "legacy", "family": "ipv4", "table": "filter", "chain": "KUBE-ROUTER-INPUT",
            "owner": "kube-router"} in result["unowned"]
    assert result["ipvs"]["status"] == "not available"  # CONFIG_IP_VS is off on this kernel
    assert after["ipset"].count("create ") == 1 and "create admin-allow" in after["ipset"]
    backup = result["backup_dir"]
    listing = in_node(node, "ls %s" % backup).stdout.split()
    assert {"manifest.json", "iptables-legacy-save.v4", "iptables-legacy-save.v6", "ipset.save"} <= set(listing)
    saved = in_node(node, "cat %s/iptables-legacy-save.v4" % backup).stdout
    saved = COUNTERS.sub("[0:0]", "".join(x for x in saved.splitlines(True) if not x.startswith("#")))
    assert saved == original["iptables-legacy-save"]

    again = ansible(node, {})
    assert not again["changed"] and not again.get("failed") and again["backup_dir"] is None, again
    assert node_state(node) == after

    restored = ansible(node, {"restore_from": "latest"})
    assert restored["changed"] and not restored.get("failed"), restored
    state = node_state(node)
    for save in SAVES:
        assert tables_of(state[save]) == tables_of(original[save]), save
    assert state["ipset"] == original["ipset"]
    assert not ansible(node, {"restore_from": backup})["changed"]


FAKE_IPVSADM = r"""#!/bin/sh
# Stand-in for ipvsadm (CONFIG_IP_VS is off here): keeps "ipvsadm -Sn" lines in a state file.
state=/run/ipvs.state
case "$1" in
  -Sn) cat "$state" ;;
  -D) grep -v -F -e "-A $2 $3 " -e "-a $2 $3 " "$state" > "$state.new"; mv "$state.new" "$state" ;;
  -R) cat >> "$state" ;;
  *) echo "fake ipvsadm: unsupported $*" >&2; exit 2 ;;
esac
"""


def test_nft_node_with_nft_tables_ipvs_and_ipsets(lab):
    node = "nft"
    load_iptables(node, "nft")
    in_node(node, "nft -f %s" % fixture_path("nft-tables.nft"))
    in_node(node, "cat > /run/fake-ipvsadm && chmod 755 /run/fake-ipvsadm && mount --bind /run/fake-ipvsadm "
                  "/usr/sbin/ipvsadm", data=FAKE_IPVSADM)
    in_node(node, "cp %s /run/ipvs.state" % fixture_path("ipvsadm-Sn.txt"))
    in_node(node, "ip link add kube-ipvs0 type veth peer name kipvs-peer && ip addr add 10.96.0.1/32 dev kube-ipvs0 "
                  "&& ip addr add 10.96.0.10/32 dev kube-ipvs0 && ip addr add fd00:10:96::1/128 dev kube-ipvs0 nodad")
    original = node_state(node)
    user_fw = original["nft"]["table inet user-firewall"]

    result = ansible(node, {})
    assert result["changed"] and not result.get("failed"), result
    after = node_state(node)
    assert_purged_exactly(original, after)
    assert sorted(after["nft"]) == ["table inet user-firewall", "table ip filter", "table ip nat",
                                    "table ip6 filter", "table ip6 nat"]
    assert after["nft"]["table inet user-firewall"] == user_fw
    assert sorted(result["nft_tables_removed"]) == ["ip flannel-ipv4", "ip kube-proxy", "ip6 kube-proxy"]
    state = in_node(node, "cat /run/ipvs.state").stdout
    assert state.splitlines()[0] == "-A -t 10.77.0.12:30080 -s rr"
    assert "10.96.0" not in state and "fd00:10:96::1" not in state and "-A -f 100 -s rr" in state
    assert result["ipvs"]["link_removed"]
    assert in_node(node, "ip link show dev kube-ipvs0", check=False).returncode != 0
    assert "create admin-allow" in after["ipset"] and "KUBE-" not in after["ipset"]
    assert "-A INPUT -m set --match-set admin-allow src -j ACCEPT" in after["iptables-nft-save"]

    again = ansible(node, {})
    assert not again["changed"], again

    restored = ansible(node, {"restore_from": result["backup_dir"]})
    assert restored["changed"] and not restored.get("failed"), restored
    state = node_state(node)
    for save in SAVES:
        assert tables_of(state[save]) == tables_of(original[save]), save
    assert state["nft"] == original["nft"]
    assert state["ipset"] == original["ipset"]
    assert sorted(in_node(node, "cat /run/ipvs.state").stdout.splitlines()) == \
        sorted(open(fixture_path("ipvsadm-Sn.txt")).read().splitlines())


FAILING_RESTORE = r"""#!/bin/sh
# Second call: apply the table for real, then report a failure (a restore that dies mid-way).
n=$(cat /run/failbin/count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > /run/failbin/count
if [ "$n" = 2 ]; then /usr/sbin/iptables-legacy-restore "$@" >/dev/null 2>&1; echo "iptables-legacy-restore: line 7 failed" >&2; exit 1; fi
exec /usr/sbin/iptables-legacy-restore "$@"
"""


def test_failure_mid_way_restores_original(lab):
    node = "mix"
    load_iptables(node, "legacy")
    in_node(node, "iptables-nft-restore -c < %s" % fixture_path("nft-ipvs-mode.v4"))  # mixed backends
    in_node(node, "mkdir -p /run/failbin && cat > /run/failbin/iptables-legacy-restore && "
                  "chmod 755 /run/failbin/iptables-legacy-restore", data=FAILING_RESTORE)
    original = node_state(node)
    result = ansible(node, {"binaries_path": ["/run/failbin"]})
    assert result.get("failed"), result
    assert "iptables-legacy-restore (ipv4) failed for table" in result["msg"]
    assert "line 7 failed" in result["msg"] and "restored from the backup /var/lib/kubeshift/backups/netfilter-" \
        in result["msg"]
    assert "Traceback" not in json.dumps(result)
    state = node_state(node)
    for save in SAVES:
        assert tables_of(state[save]) == tables_of(original[save]), save
    assert state["ipset"] == original["ipset"]
    assert int(in_node(node, "cat /run/failbin/count").stdout) >= 3  # rollback went through the wrapper too


def test_truncated_dump_changes_nothing(lab):
    node = "mix"
    in_node(node, "mkdir -p /run/truncbin && printf '#!/bin/sh\\nhead -n 12 %s\\n' > /run/truncbin/ip6tables-nft-save "
                  "&& chmod 755 /run/truncbin/ip6tables-nft-save" % fixture_path("nft-iptables-mode.v6"))
    original = node_state(node)
    result = ansible(node, {"binaries_path": ["/run/truncbin"], "backup_dir": "/var/lib/kubeshift/trunc"})
    assert result.get("failed")
    assert "ip6tables-nft-save (ipv6): table filter has no COMMIT line: the dump is truncated; nothing was changed" \
        == result["msg"]
    assert node_state(node) == original
    assert in_node(node, "ls /var/lib/kubeshift/trunc 2>/dev/null || true").stdout == ""


def playbook(name, node, extra=None):
    cmd = ["ansible-playbook", os.path.join(REPO, "playbooks", name), "-i", os.path.join(LAB, "inventory.ini"),
           "-l", node + ",localhost"]
    for key, value in (extra or {}).items():
        cmd += ["-e", "%s=%s" % (key, value)]
    return subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, ANSIBLE_NOCOLOR="1"), check=False)


def test_cleanup_playbook_refuses_without_confirmation(lab):
    node = "mix"
    original = node_state(node)
    proc = playbook("node_cleanup.yml", node)
    assert proc.returncode != 0
    assert "Nothing was changed. Re-run with -e node_cleanup_confirm=true" in proc.stdout
    assert "Clean up the nodes" not in proc.stdout
    assert node_state(node) == original


def test_cleanup_then_restore_playbooks(lab):
    node = "mix"
    original = node_state(node)
    proc = playbook("node_cleanup.yml", node, {"node_cleanup_confirm": "true"})
    assert proc.returncode == 0, proc.stdout[-3000:]
    purged = node_state(node)
    assert ":KUBE-SERVICES - " not in purged["iptables-legacy-save"]
    proc = playbook("node_restore.yml", node)
    assert proc.returncode != 0 and "Set -e node_restore_backup=latest" in proc.stdout
    assert node_state(node) == purged
    proc = playbook("node_restore.yml", node, {"node_restore_backup": "latest"})
    assert proc.returncode == 0, proc.stdout[-3000:]
    state = node_state(node)
    for save in SAVES:
        assert tables_of(state[save]) == tables_of(original[save]), save
    assert state["ipset"] == original["ipset"]


RACING_RESTORE = r"""#!/bin/sh
# Another tool (Docker, say) inserts a rule after the module's save, just before its first commit on this backend.
if [ ! -e /run/racebin/added-BACKEND ]; then
  touch /run/racebin/added-BACKEND
  /usr/sbin/iptables-BACKEND -w -I INPUT 1 -s 198.51.100.9/32 -p tcp -m tcp --dport 2222 -j ACCEPT
fi
exec /usr/sbin/iptables-BACKEND-restore "$@"
"""
RACED_RULE = "[0:0] -A INPUT -s 198.51.100.9/32 -p tcp -m tcp --dport 2222 -j ACCEPT\n"


def test_rule_added_between_save_and_commit_stays(lab):
    # Each table is committed with a --noflush script that names only what goes: a rule added meanwhile survives
    # on both backends, where a restore of the whole saved table would have dropped it.
    node = "mix"  # as the restore playbook left it: kube-proxy and Flannel state in both backends
    original = node_state(node)
    assert ":KUBE-SERVICES - " in original["iptables-legacy-save"] and ":KUBE-SERVICES - " in original["iptables-nft-save"]
    in_node(node, "rm -rf /run/racebin && mkdir -p /run/racebin")
    for backend in ("legacy", "nft"):
        in_node(node, "cat > /run/racebin/iptables-%s-restore && chmod 755 /run/racebin/iptables-%s-restore"
                % (backend, backend), data=RACING_RESTORE.replace("BACKEND", backend))
    result = ansible(node, {"binaries_path": ["/run/racebin"], "backup_dir": "/var/lib/kubeshift/race"})
    assert result["changed"] and not result.get("failed"), result
    after = node_state(node)
    for save in ("iptables-legacy-save", "iptables-nft-save"):
        filter_table = tables_of(after[save])["filter"]
        assert filter_table.count(RACED_RULE) == 1, (save, filter_table)
        after[save] = after[save].replace(RACED_RULE, "", 1)
    assert_purged_exactly(original, after)
