# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for the netfilter parsers and the purge planner (plugins/module_utils/_netfilter.py)."""

from __future__ import annotations

import os
import re

import pytest

from ansible_collections.kubeshift.cilium.plugins.module_utils import _netfilter as nf
from ansible_collections.kubeshift.cilium.tests.unit.plugins.module_utils.noflush_restore import apply_noflush

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "netfilter")
DEFAULT = list(nf.DEFAULT_OWNERS)


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


def purge(text, owners=None, source="test"):
    dump = nf.parse_save(text, source)
    plans = nf.plan_dump(dump, owners if owners is not None else DEFAULT)
    return dump, plans


def filtered_text(dump, plans):
    """The whole dump with every planned line dropped (what the node holds after the purge)."""
    drop = set()
    for plan in plans:
        drop |= plan.drop
    return "".join(line for i, line in enumerate(dump.lines) if i not in drop)


def by_table(plans):
    return {p.table.name: p for p in plans}


# ------------------------------------------------------------------------------------------------ parser


def test_parse_legacy_dump_tables_chains_rules():
    dump = nf.parse_save(fixture("legacy-iptables-mode.v4"), "iptables-legacy-save (IPv4)")
    assert [t.name for t in dump.tables] == ["mangle", "filter", "nat"]
    nat = dump.table("nat")
    assert "KUBE-SVC-NPX46M4PTMTKRN6Y" in nat.chains
    assert nat.chains["POSTROUTING"][1] == "ACCEPT"
    assert dump.table("filter").chains["INPUT"][1] == "DROP"
    # every "-A" line became a rule, nothing else did
    text = fixture("legacy-iptables-mode.v4")
    assert sum(len(t.rules) for t in dump.tables) == len(re.findall(r"^\[\d+:\d+\] -A ", text, re.M))
    assert dump.has_rules


def test_rule_targets_ignore_text_inside_quotes():
    dump = nf.parse_save(fixture("legacy-iptables-mode.v4"))
    rules = [r for r in dump.table("filter").rules if r.chain == "KUBE-CUSTOM-AUDIT"]
    # the LOG prefix contains "-j KUBE-SERVICES" inside quotes: not a jump
    assert rules[0].targets == ("LOG",)
    assert rules[1].targets == ("KUBE-FORWARD",)


def test_comment_unescaping():
    dump = nf.parse_save(fixture("legacy-iptables-mode.v4"))
    rule = [r for r in dump.table("nat").rules if r.chain == "CNI-HOSTPORT-DNAT"][0]
    assert rule.comments == ('dnat name: "cbr0" id: "5f1c0e4b9a8d7c6b5a4f3e2d1c0b9a8f"',)


def test_parse_without_counters():
    text = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n" \
           "-A INPUT -m comment --comment flanneld -j ACCEPT\nCOMMIT\n"
    dump = nf.parse_save(text)
    assert dump.table("filter").rules[0].comments == ("flanneld",)
    assert dump.table("filter").rules[0].targets == ("ACCEPT",)


def test_empty_dump_has_no_rules():
    dump = nf.parse_save("")
    assert dump.tables == [] and not dump.has_rules
    only_policies = "*filter\n:INPUT ACCEPT [5:300]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"
    assert not nf.parse_save(only_policies).has_rules
    assert nf.parse_save(only_policies.replace("FORWARD ACCEPT", "FORWARD DROP")).has_rules


@pytest.mark.parametrize("name, message", [
    ("malformed-truncated.v4", "has no COMMIT line: the dump is truncated"),
    ("malformed-unknown-table.v4", "unknown table 'brouting'"),
])
def test_malformed_fixtures(name, message):
    with pytest.raises(nf.NetfilterParseError) as err:
        nf.parse_save(fixture(name), "iptables-legacy-save (IPv4)")
    assert message in str(err.value)
    assert "iptables-legacy-save (IPv4)" in str(err.value)


@pytest.mark.parametrize("text, message", [
    ("-A INPUT -j ACCEPT\n", "outside a table"),
    ("*filter\n:INPUT ACCEPT [0:0]\n-A FOO -j ACCEPT\nCOMMIT\n", "does not declare"),
    ("*filter\n:INPUT - [0:0]\nCOMMIT\n", "built-in chain INPUT without a policy"),
    ("*filter\n:FOO ACCEPT [0:0]\nCOMMIT\n", "user chain FOO with policy ACCEPT"),
    ("*filter\n:INPUT ACCEPT\nCOMMIT\n", "malformed chain declaration"),
    ("*filter\n:INPUT ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\nCOMMIT\n", "declared twice"),
    ("*filter\nCOMMIT\n*filter\nCOMMIT\n", "appears twice"),
    ("*filter\n:INPUT ACCEPT [0:0]\nbogus line\nCOMMIT\n", "unexpected line"),
    ("*filter\n:INPUT ACCEPT [0:0]\n[1:2] -I INPUT -j ACCEPT\nCOMMIT\n", "expected '-A CHAIN"),
])
def test_malformed_inputs(text, message):
    with pytest.raises(nf.NetfilterParseError) as err:
        nf.parse_save(text, "dump.v4")
    assert message in str(err.value)
    assert str(err.value).startswith("dump.v4")


def test_non_text_input():
    with pytest.raises(nf.NetfilterParseError, match="expected text"):
        nf.parse_save(None, "x")


# ------------------------------------------------------------------------------------------------ planner


def test_default_purge_of_legacy_fixture():
    dump, plans = purge(fixture("legacy-iptables-mode.v4"))
    result = filtered_text(dump, plans)
    tables = by_table(plans)
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', result)
    # owned chains are gone, with every rule in them and every jump to them
    for name in ("KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-FORWARD", "KUBE-PROXY-FIREWALL", "FLANNEL-FWD",
                 "FLANNEL-POSTRTG", "KUBE-POSTROUTING", "KUBE-MARK-MASQ", "CNI-HOSTPORT-DNAT",
                 "CNI-DN-3e2a4c5f6a7b8c9d0e1f2", "KUBE-SVC-NPX46M4PTMTKRN6Y", "KUBE-SEP-ZP3FB6NMPNCO4VBJ",
                 "KUBE-EXT-LRLF7BVXWX6ZC4HU", "KUBE-PROXY-CANARY"):
        assert not re.search(r"(^:|-j |-g )%s\b" % re.escape(name), unquoted, re.M), name
    assert "flanneld" not in result
    assert "CNI portfwd" not in result
    assert "kubernetes service portals" not in result
    # kubelet, kube-router and unknown chains stay, and are reported
    for name in ("KUBE-FIREWALL", "KUBE-KUBELET-CANARY", "KUBE-IPTABLES-HINT", "KUBE-ROUTER-INPUT",
                 "KUBE-NWPLCY-DEFAULT", "KUBE-CUSTOM-AUDIT"):
        assert ":%s - " % name in result
    unowned = {(p.table.name, c): o for p in plans for c, o in p.unowned}
    assert unowned[("filter", "KUBE-ROUTER-INPUT")] == "kube-router"
    assert unowned[("filter", "KUBE-FIREWALL")] == "kubelet"
    assert unowned[("mangle", "KUBE-IPTABLES-HINT")] == "kubelet"
    assert unowned[("filter", "KUBE-CUSTOM-AUDIT")] is None
    # the unknown chain loses only its jump into a removed chain; the LOG rule stays
    assert "-A KUBE-CUSTOM-AUDIT -p tcp -m tcp --dport 10250 -j LOG" in result
    assert "-A KUBE-CUSTOM-AUDIT -j KUBE-FORWARD" not in result
    # the user's SSH rule, fail2ban, docker and the user's NAT rule are all still there
    assert "[64:3840] -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n" in result
    assert "-A f2b-sshd -s 203.0.113.7/32 -j REJECT" in result
    assert "-A POSTROUTING -s 192.168.50.0/24 -o eth0 -j MASQUERADE\n" in result
    assert "-A FORWARD -o docker0 -j DOCKER\n" in result
    # policies and counters of built-in chains untouched
    assert ":INPUT DROP [312:18720]\n" in result and ":FORWARD DROP [0:0]\n" in result
    assert tables["nat"].changed and tables["filter"].changed and tables["mangle"].changed


def test_rest_is_byte_identical_and_no_dangling_references():
    for name in ("legacy-iptables-mode.v4", "nft-ipvs-mode.v4", "nft-iptables-mode.v6"):
        text = fixture(name)
        dump, plans = purge(text)
        removed = set()
        for plan in plans:
            removed |= plan.drop
            assert nf.dangling_references(dump, plan) == []
        kept = [line for i, line in enumerate(dump.lines) if i not in removed]
        # kept lines appear in their original order, byte for byte: the result is a subsequence of the input
        assert "".join(kept) == filtered_text(dump, plans)
        assert all(line in text for line in kept)
        # the result parses again, and a second plan removes nothing (idempotent)
        again, plans2 = purge(filtered_text(dump, plans))
        assert all(not p.changed for p in plans2), name
        # every removed line is owned: a removed chain, a rule in/into one, or an owner comment
        for plan in plans:
            for index in plan.removed_rules:
                rule = [r for r in plan.table.rules if r.index == index][0]
                assert (rule.chain in plan.removed_chains
                        or set(rule.targets) & set(plan.removed_chains)
                        or any(nf.CLASSIFIER.comment_owner(c) in DEFAULT for c in rule.comments)), rule.index


def test_builtin_chain_lines_never_dropped():
    dump, plans = purge(fixture("legacy-iptables-mode.v4"), list(nf.OWNER_NAMES))
    for plan in plans:
        for chain in plan.table.builtin:
            if chain in plan.table.chains:
                assert plan.table.chains[chain][0] not in plan.drop


def test_all_owners_leave_only_foreign_chains():
    dump, plans = purge(fixture("legacy-iptables-mode.v4"), list(nf.OWNER_NAMES))
    result = filtered_text(dump, plans)
    declared = re.findall(r"^:(\S+) - ", result, re.M)
    assert sorted(declared) == sorted(["DOCKER", "DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2",
                                       "DOCKER-USER", "KUBE-CUSTOM-AUDIT", "f2b-sshd", "DOCKER"])
    assert [u for p in plans for u in p.unowned] == [("KUBE-CUSTOM-AUDIT", None)]


def test_owner_selection_changes_scope():
    dump, plans = purge(fixture("legacy-iptables-mode.v4"), ["flannel"])
    result = filtered_text(dump, plans)
    assert "FLANNEL" not in result and "flanneld" not in result
    assert ":KUBE-SERVICES - [0:0]" in result and "CNI-HOSTPORT-DNAT" in result
    unowned = {c: o for p in plans for c, o in p.unowned}
    assert unowned["KUBE-SERVICES"] == "kube-proxy" and unowned["CNI-HOSTPORT-MASQ"] == "cni-portmap"


def test_comment_only_rules_are_removed():
    # old flanneld style: masquerade rules straight in POSTROUTING, no chain of their own
    dump, plans = purge(fixture("nft-ipvs-mode.v4"))
    result = filtered_text(dump, plans)
    assert "flanneld masq" not in result
    assert "-A POSTROUTING -s 10.10.0.0/16 -o eth0 -j MASQUERADE\n" in result


def test_table_specific_ownership_of_kube_firewall():
    dump, plans = purge(fixture("nft-ipvs-mode.v4"))
    tables = by_table(plans)
    assert "KUBE-FIREWALL" in tables["nat"].removed_chains  # IPVS-mode kube-proxy chain in nat
    assert "KUBE-FIREWALL" not in tables["filter"].removed_chains  # kubelet's in filter
    assert ("KUBE-FIREWALL", "kubelet") in tables["filter"].unowned


def test_goto_references_are_removed():
    text = ("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
            ":KUBE-SERVICES - [0:0]\n:MINE - [0:0]\n-A MINE -g KUBE-SERVICES\n-A MINE -j RETURN\n"
            "-A PREROUTING -j MINE\nCOMMIT\n")
    dump, plans = purge(text)
    assert filtered_text(dump, plans) == ("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
                                          ":POSTROUTING ACCEPT [0:0]\n:MINE - [0:0]\n-A MINE -j RETURN\n"
                                          "-A PREROUTING -j MINE\nCOMMIT\n")


def test_section_is_one_table_ending_with_commit():
    dump, plans = purge(fixture("legacy-iptables-mode.v4"))
    nat = by_table(plans)["nat"]
    section = dump.section(nat.table, nat.drop)
    assert section.startswith("*nat\n") and section.endswith("COMMIT\n")
    assert "*filter" not in section and "# Generated" not in section
    assert nf.parse_save(section).tables[0].name == "nat"
    diff = nf.removed_text(dump, nat)
    assert "-A KUBE-SERVICES -d 10.96.0.1/32" in diff and "MASQUERADE -s 192.168.50" not in diff


@pytest.mark.parametrize("name", ["legacy-iptables-mode.v4", "nft-iptables-mode.v6", "nft-ipvs-mode.v4"])
@pytest.mark.parametrize("owners", [DEFAULT, list(nf.OWNER_NAMES), ["flannel"]])
def test_purge_script_yields_exactly_the_filtered_table(name, owners):
    # The --noflush script, applied with iptables-restore semantics, leaves each table exactly as the planner's
    # filtered text: every kept line byte-identical (counters included), every planned line gone.
    dump, plans = purge(fixture(name), owners)
    text = "".join(dump.lines)
    for plan in plans:
        if not plan.changed:
            continue
        text, err = apply_noflush(text, dump.purge_script(plan))
        assert not err, err
    assert text == filtered_text(dump, plans)


def test_purge_script_lines():
    dump, plans = purge(fixture("legacy-iptables-mode.v4"))
    nat = by_table(plans)["nat"]
    script = dump.purge_script(nat).splitlines()
    assert script[0] == "*nat" and script[-1] == "COMMIT"
    # built-in chains restated as saved (policy counters survive a --noflush commit)
    assert script[1:5] == [":PREROUTING ACCEPT [211:13520]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [1830:110184]",
                           ":POSTROUTING ACCEPT [1830:110184]"]
    flushes = [line.split()[1] for line in script if line.startswith("-F ")]
    deletes = [line.split()[1] for line in script if line.startswith("-X ")]
    assert sorted(flushes) == sorted(deletes) == sorted(nat.removed_chains)
    # counters are not part of a rule spec; rules inside removed chains go with their chain's flush
    rules = [line for line in script if line.startswith("-D ")]
    assert rules and not [line for line in rules if "[" in line.split()[1] or line.split()[1] in flushes]
    assert '-D PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES' in rules
    # order: built-in chains, flush every removed chain, then the rule deletions, then the chain deletions
    rank = {":": 0, "-F": 1, "-D": 2, "-X": 3}
    kinds = [rank[line[:2] if line[0] == "-" else line[0]] for line in script[1:-1]]
    assert kinds == sorted(kinds) and set(kinds) == {0, 1, 2, 3}


def test_purge_script_deletes_libiptc_bucket_heads_last():
    # 100 removed chains beside 3 kept ones: in name order, every 40th user chain heads a libiptc index bucket
    # (MINE-* and ZED sort around the KUBE-* ones); those are deleted after all the others.
    lines = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]", ":A-FIRST - [0:0]",
             ":MINE - [0:0]", ":ZED - [0:0]"]
    lines += [":KUBE-SVC-%03d - [0:0]" % i for i in range(100)]
    lines += ["-A INPUT -j MINE", "-A INPUT -j KUBE-SVC-007", "COMMIT", ""]
    dump, plans = purge("\n".join(lines))
    plan = plans[0]
    deleted = [line.split()[1] for line in dump.purge_script(plan).splitlines() if line.startswith("-X ")]
    user = sorted(["A-FIRST", "MINE", "ZED"] + ["KUBE-SVC-%03d" % i for i in range(100)])
    heads = [c for c in user[::40] if c.startswith("KUBE-")]
    assert heads == ["KUBE-SVC-039", "KUBE-SVC-079"]
    assert deleted[-2:] == heads and sorted(deleted) == sorted(plan.removed_chains)
    assert dump.purge_script(plan).count("-D INPUT -j KUBE-SVC-007\n") == 1


def test_purge_script_keeps_duplicate_rules_apart():
    # two identical marked rules: two deletions, each removes one (iptables -D removes the first match)
    text = ("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
            '[5:300] -A POSTROUTING -m comment --comment "flanneld masq" -j MASQUERADE\n'
            "[1:60] -A POSTROUTING -s 10.0.0.0/8 -j MASQUERADE\n"
            '[7:420] -A POSTROUTING -m comment --comment "flanneld masq" -j MASQUERADE\nCOMMIT\n')
    dump, plans = purge(text)
    script = dump.purge_script(plans[0])
    assert script == ('*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n'
                      ':POSTROUTING ACCEPT [0:0]\n-D POSTROUTING -m comment --comment "flanneld masq" -j MASQUERADE\n'
                      '-D POSTROUTING -m comment --comment "flanneld masq" -j MASQUERADE\nCOMMIT\n')
    after, err = apply_noflush(text, script)
    assert not err and after == filtered_text(dump, plans)
    assert "[1:60] -A POSTROUTING -s 10.0.0.0/8 -j MASQUERADE\n" in after


def test_planner_is_linear():
    # a chain of 20,000 service chains must plan in one pass (smoke check against per-chain rescans)
    lines = ["*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
             ":POSTROUTING ACCEPT [0:0]", ":KUBE-SERVICES - [0:0]"]
    for i in range(20000):
        lines.append(":KUBE-SVC-%016d - [0:0]" % i)
    for i in range(20000):
        lines.append("-A KUBE-SERVICES -d 10.96.%d.%d/32 -p tcp -m comment --comment \"ns/s%d cluster IP\" "
                     "-m tcp --dport 80 -j KUBE-SVC-%016d" % (i // 250, i % 250, i, i))
    lines += ["-A PREROUTING -j KUBE-SERVICES", "COMMIT", ""]
    dump, plans = purge("\n".join(lines))
    assert len(plans[0].removed_chains) == 20001
    assert len(plans[0].removed_rules) == 20001


def test_owner_data_is_consistent():
    exact = {}
    for owner, spec in nf.OWNERS.items():
        for chain in spec["chains"]:
            assert chain not in exact, "chain %s claimed by %s and %s" % (chain, owner, exact.get(chain))
            exact[chain] = owner
        assert set(spec) == {"chains", "table_chains", "prefixes", "comments", "comment_prefixes",
                             "nft_tables", "ipsets", "ipset_prefixes"}
    assert set(nf.OWNERS) == set(nf.OWNER_NAMES)
    assert set(nf.DEFAULT_OWNERS) <= set(nf.OWNER_NAMES)
    assert nf.CLASSIFIER.chain_owner("filter", "KUBE-ROUTER-INPUT") == "kube-router"
    assert nf.CLASSIFIER.chain_owner("nat", "KUBE-SVC-ABC") == "kube-proxy"
    assert nf.CLASSIFIER.chain_owner("filter", "CILIUM_INPUT") == "cilium"
    assert nf.CLASSIFIER.chain_owner("filter", "DOCKER") is None


def test_validate_owners():
    assert nf.validate_owners(["flannel", "flannel", "kube-proxy"]) == ["flannel", "kube-proxy"]
    with pytest.raises(ValueError, match="unknown owner 'calico'"):
        nf.validate_owners(["calico"])


def test_strip_counters():
    assert nf.strip_counters("# x\n:INPUT ACCEPT [3:4]\n[1:2] -A INPUT -j ACCEPT\n") == \
        ":INPUT ACCEPT [0:0]\n[0:0] -A INPUT -j ACCEPT\n"


# ------------------------------------------------------------------------------------------------ ipsets


def test_ipsets_destroyed_only_when_unreferenced():
    dump, plans = purge(fixture("nft-ipvs-mode.v4"))
    referenced = nf.remaining_match_sets(dump, plans)
    assert referenced == {"admin-allow"}
    names = [line.split()[1] for line in fixture("ipset.save").splitlines() if line.startswith("create ")]
    destroy, kept = nf.plan_ipsets(names, DEFAULT, referenced)
    assert "admin-allow" not in destroy and kept == []
    assert set(destroy) == {"KUBE-CLUSTER-IP", "KUBE-LOOP-BACK", "KUBE-NODE-PORT-TCP", "KUBE-LOAD-BALANCER",
                            "KUBE-IPVS-IPS", "KUBE-HEALTH-CHECK-NODE-PORT", "KUBE-NODE-PORT-UDP"}
    destroy, kept = nf.plan_ipsets(names, DEFAULT, referenced | {"KUBE-CLUSTER-IP"})
    assert "KUBE-CLUSTER-IP" not in destroy
    assert kept == [{"name": "KUBE-CLUSTER-IP", "owner": "kube-proxy", "reason": "still referenced by a remaining rule"}]
    assert nf.plan_ipsets(names, ["flannel"], set()) == ([], [])


def test_ipset_helpers():
    assert nf.parse_ipset_names("KUBE-CLUSTER-IP\nadmin-allow\n") == ["KUBE-CLUSTER-IP", "admin-allow"]
    with pytest.raises(nf.NetfilterParseError, match="expected one set name"):
        nf.parse_ipset_names("Name: KUBE-CLUSTER-IP\n")
    subset = nf.ipset_save_subset(fixture("ipset.save"), ["KUBE-IPVS-IPS"])
    assert subset.splitlines() == [
        "create KUBE-IPVS-IPS hash:ip family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x19d2b3f0",
        "add KUBE-IPVS-IPS 10.96.0.1", "add KUBE-IPVS-IPS 10.96.0.10"]
    assert nf.ipset_owner("KUBE-6-CLUSTER-IP") == "kube-proxy"
    assert nf.ipset_owner("KUBE-SRC-ABCDEF") == "kube-router"
    assert nf.ipset_owner("KUBE-SOMETHING") is None


# ------------------------------------------------------------------------------------------------ nft


def test_nft_tables():
    tables = nf.parse_nft_tables("table ip filter\ntable ip kube-proxy\ntable ip6 kube-proxy\n"
                                 "table ip flannel-ipv4\ntable inet user-firewall\ntable ip6 flannel-ipv6\n")
    assert nf.plan_nft_tables(tables, DEFAULT) == [("ip", "kube-proxy"), ("ip6", "kube-proxy"),
                                                   ("ip", "flannel-ipv4"), ("ip6", "flannel-ipv6")]
    assert nf.plan_nft_tables(tables, ["cni-portmap"]) == []
    # an inet table called kube-proxy is not kube-proxy's
    assert nf.plan_nft_tables([("inet", "kube-proxy")], DEFAULT) == []


@pytest.mark.parametrize("text, message", [
    ("table ip\n", "expected 'table FAMILY NAME'"),
    ("chain ip filter INPUT\n", "expected 'table FAMILY NAME'"),
    ("table ipx foo\n", "unknown nftables family 'ipx'"),
])
def test_nft_tables_malformed(text, message):
    with pytest.raises(nf.NetfilterParseError, match=re.escape(message)):
        nf.parse_nft_tables(text)


def test_nft_listing_checks():
    listing = fixture("nft-tables.nft").split("table ip6 kube-proxy")[0]
    nf.check_nft_listing(listing, "ip", "kube-proxy", "nft list table ip kube-proxy")
    with pytest.raises(nf.NetfilterParseError, match="truncated"):
        nf.check_nft_listing(listing[:400], "ip", "kube-proxy", "nft list table ip kube-proxy")
    with pytest.raises(nf.NetfilterParseError, match="expected a listing starting with"):
        nf.check_nft_listing("table ip other {\n}\n", "ip", "kube-proxy", "x")
    script = nf.nft_restore_script("ip", "kube-proxy", listing)
    assert script.startswith("table ip kube-proxy\ndelete table ip kube-proxy\ntable ip kube-proxy {")


# ------------------------------------------------------------------------------------------------ IPVS


def test_ipvs_plan_only_kube_ipvs0_addresses():
    services = nf.parse_ipvsadm_save(fixture("ipvsadm-Sn.txt"))
    assert len(services) == 7
    assert services[4]["address"] == "fd00:10:96::1" and services[4]["port"] == "443"
    assert services[6]["proto"] == "fwmark" and services[6]["address"] is None
    bound = nf.parse_ip_addr_show(fixture("ip-addr-kube-ipvs0.txt"))
    assert bound == ["10.96.0.1", "10.96.0.10", "fd00:10:96::1"]
    gone = nf.plan_ipvs(services, bound)
    assert [s["key"] for s in gone] == [["-t", "10.96.0.1:443"], ["-t", "10.96.0.10:53"], ["-u", "10.96.0.10:53"],
                                        ["-t", "[fd00:10:96::1]:443"]]
    assert gone[1]["lines"] == ["-A -t 10.96.0.10:53 -s rr", "-a -t 10.96.0.10:53 -r 10.244.0.2:53 -m -w 1",
                                "-a -t 10.96.0.10:53 -r 10.244.0.3:53 -m -w 1"]
    # nothing bound on kube-ipvs0 (or no such link): nothing is kube-proxy's
    assert nf.plan_ipvs(services, []) == []


@pytest.mark.parametrize("text, message", [
    ("-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1\n", "real server for unknown virtual service"),
    ("-A -t 10.0.0.1 -s rr\n", "malformed address"),
    ("-A -t [fd00::1:443 -s rr\n", "malformed address"),
    ("IP Virtual Server version 1.2.1 (size=4096)\n", "unexpected line"),
    ("-A -t 10.0.0.1:80 -s rr\n-A -t 10.0.0.1:80 -s rr\n", "listed twice"),
])
def test_ipvs_malformed(text, message):
    with pytest.raises(nf.NetfilterParseError, match=re.escape(message)):
        nf.parse_ipvsadm_save(text, "ipvsadm -Sn")
