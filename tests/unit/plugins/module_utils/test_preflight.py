# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

import pytest

from ansible_collections.kubeshift.cilium.plugins.module_utils import _preflight as pf
from ansible_collections.kubeshift.cilium.plugins.module_utils._kconfig import load_config
from ansible_collections.kubeshift.cilium.tests.unit.plugins.filter.synthetic_facts import (
    DELETE,
    check,
    make_facts,
    statuses,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def group_ids(req):
    return [g["id"] for g in req["groups"]]


def option_names(req):
    return [o["name"] for g in req["groups"] for o in g["options"]]


def feature_ids(req):
    return [f["id"] for f in req["features"]]


def verdict_for(version="1.18.12", values=None, **facts):
    return pf.node_verdict(make_facts(**facts), pf.requirements(version, values or {}), "node1")


# ------------------------------------------------------------------------------------------- versions

@pytest.mark.parametrize("text, line, normalised, patch_known", [
    ("1.18", "1.18", "1.18", False),
    ("1.18.12", "1.18", "1.18.12", True),
    ("v1.18.12", "1.18", "1.18.12", True),
    (" 1.20.2 ", "1.20", "1.20.2", True),
    ("1.19.0-pre.3", "1.19", "1.19.0-pre.3", True),
    ("1.16.0-rc.1", "1.16", "1.16.0-rc.1", True),
])
def test_parse_version_accepts(text, line, normalised, patch_known):
    parsed = pf.parse_version(text)
    assert parsed["line"] == line
    assert parsed["version"] == normalised
    assert parsed["patch_known"] is patch_known


@pytest.mark.parametrize("value, fragment", [
    ("1.15.3", "unsupported Cilium version '1.15.3' (line 1.15)"),
    ("1.21.0", "unsupported"),
    ("2.0", "unsupported"),
    ("abc", "malformed Cilium version 'abc'"),
    ("1.18.x", "malformed"),
    ("", "malformed"),
    (1.18, "quote it"),
    (None, "must be a string"),
    (118, "must be a string"),
    (["1.18"], "must be a string"),
])
def test_parse_version_rejects(value, fragment):
    with pytest.raises(ValueError) as err:
        pf.parse_version(value)
    assert fragment in str(err.value)
    assert "supported lines: 1.16, 1.17, 1.18, 1.19, 1.20" in str(err.value)


# --------------------------------------------------------------------------------------- requirements

def test_defaults_1_18():
    req = pf.requirements("1.18.12", {})
    assert req["line"] == "1.18" and req["version"] == "1.18.12"
    assert req["kernel_floor"]["version"] == [5, 10, 0]
    assert req["kernel_floor"]["backports"][0]["min_distro_version"] == "8.6"
    assert group_ids(req) == ["base", "iptables_masquerading", "tunneling", "l7_proxy"]
    names = option_names(req)
    assert "CONFIG_VXLAN" in names and "CONFIG_GENEVE" not in names and "CONFIG_FIB_RULES" in names
    assert "CONFIG_XFRM" in names and "CONFIG_SCHEDSTATS" in names and "CONFIG_CRYPTO_USER_API_HASH" in names
    assert req["features"] == []
    assert req["needs"] == {"bpffs": True, "bpffs_automount": True, "cgroup2": False,
                            "cgroup2_automount": True, "btf": False}
    ports = [(p["protocol"], p["port"]) for p in req["ports"]]
    assert ("tcp", 4240) in ports and ("udp", 8472) in ports and ("tcp", 4244) in ports
    assert ("udp", 51871) not in ports and ("tcp", 4245) not in ports
    assert "vxlan" in req["modules"] and "xt_socket" in req["modules"]


@pytest.mark.parametrize("line, floor", [("1.16", [5, 4, 0]), ("1.17", [5, 4, 0]), ("1.18", [5, 10, 0]),
                                         ("1.19", [5, 10, 0]), ("1.20", [5, 10, 0])])
def test_kernel_floor_per_line(line, floor):
    assert pf.requirements(line + ".1")["kernel_floor"]["version"] == floor


@pytest.mark.parametrize("values, present, absent", [
    ({"bpf": {"masquerade": True}}, [], ["iptables_masquerading"]),
    ({"bpf": {"masquerade": "true"}}, [], ["iptables_masquerading"]),
    ({"enableIPv4Masquerade": False}, [], ["iptables_masquerading"]),
    ({"l7Proxy": False}, [], ["l7_proxy"]),
    ({"l7Proxy": "false"}, [], ["l7_proxy"]),
    ({"encryption": {"enabled": True, "type": "ipsec"}}, ["ipsec"], ["wireguard"]),
    ({"encryption": {"enabled": True}}, ["ipsec"], ["wireguard"]),
    ({"encryption": {"type": "ipsec"}}, [], ["ipsec"]),
    ({"encryption": {"enabled": True, "type": "wireguard"}}, ["wireguard"], ["ipsec"]),
    ({"encryption": {"enabled": True, "type": "ztunnel"}}, [], ["ipsec", "wireguard"]),
    ({"bandwidthManager": {"enabled": True}}, ["bandwidth_manager"], []),
    ({"bpf": {"datapathMode": "netkit"}}, ["netkit"], []),
    ({"bpf": {"datapathMode": "netkit-l2"}}, ["netkit"], []),
    ({"kubeProxyReplacement": True}, ["socket_lb"], []),
    ({"kubeProxyReplacement": "true"}, ["socket_lb"], []),
    ({"kubeProxyReplacement": "false"}, [], ["socket_lb"]),
    ({"socketLB": {"enabled": True}}, ["socket_lb"], []),
])
def test_values_decide_groups(values, present, absent):
    ids = group_ids(pf.requirements("1.18.12", values))
    for gid in present:
        assert gid in ids
    for gid in absent:
        assert gid not in ids


def test_native_routing_drops_tunnel_devices():
    req = pf.requirements("1.18.12", {"routingMode": "native", "ipv4NativeRoutingCIDR": "10.0.0.0/8"})
    names = option_names(req)
    assert "CONFIG_VXLAN" not in names and "CONFIG_GENEVE" not in names
    assert "CONFIG_FIB_RULES" in names
    assert "vxlan" not in req["modules"]
    assert not [p for p in req["ports"] if p["purpose"] in ("vxlan", "geneve")]
    assert req["settings"]["tunnel_protocol"] is None


def test_geneve_and_tunnel_port():
    req = pf.requirements("1.18.12", {"tunnelProtocol": "geneve"})
    names = option_names(req)
    assert "CONFIG_GENEVE" in names and "CONFIG_VXLAN" not in names
    assert {"port": 6081, "protocol": "udp", "purpose": "geneve"} in req["ports"]
    req = pf.requirements("1.18.12", {"routingMode": "tunnel", "tunnelPort": 8473})
    assert {"port": 8473, "protocol": "udp", "purpose": "vxlan"} in req["ports"]
    req = pf.requirements("1.18.12", {"tunnelPort": "8473"})
    assert {"port": 8473, "protocol": "udp", "purpose": "vxlan"} in req["ports"]


def test_dsr_geneve_dispatch_needs_geneve_in_native_mode():
    req = pf.requirements("1.18.12", {"routingMode": "native", "kubeProxyReplacement": True,
                                      "loadBalancer": {"mode": "dsr", "dsrDispatch": "geneve"}})
    assert "CONFIG_GENEVE" in option_names(req)


def test_ipsec_options_deduplicated_and_xfrm_mode_tunnel_tagged():
    req = pf.requirements("1.18.12", {"encryption": {"enabled": True, "type": "ipsec"}})
    names = option_names(req)
    assert names.count("CONFIG_XFRM") == 1
    ipsec = [g for g in req["groups"] if g["id"] == "ipsec"][0]
    tunnel = [o for o in ipsec["options"] if o["name"] == "CONFIG_INET_XFRM_MODE_TUNNEL"][0]
    assert tunnel["below_kernel"] == [5, 2, 0]
    assert "esp4" in req["modules"] and "xfrm_user" in req["modules"]


@pytest.mark.parametrize("version, needed", [
    ("1.18.12", False), ("1.19.2", False), ("1.19.3", True), ("1.19.7", True), ("1.19", True),
    ("1.19.0-pre.3", False), ("1.19.3-rc.1", True), ("1.20.0", True), ("1.20.0-pre.3", True), ("1.16.19", False),
])
def test_btf_patch_rule(version, needed):
    req = pf.requirements(version)
    assert req["needs"]["btf"] is needed
    assert ("btf" in group_ids(req)) is needed
    assert ("CONFIG_DEBUG_INFO_BTF" in option_names(req)) is needed


@pytest.mark.parametrize("line, values, features", [
    ("1.16", {"encryption": {"enabled": True, "type": "wireguard"}}, ["wireguard"]),
    ("1.18", {"encryption": {"enabled": True, "type": "wireguard"}}, []),
    ("1.16", {"kubeProxyReplacement": True}, ["session_affinity"]),
    ("1.18", {"kubeProxyReplacement": True}, []),
    ("1.17", {"bpf": {"tproxy": True}}, ["bpf_tproxy"]),
    ("1.17", {"socketLB": {"hostNamespaceOnly": True}}, ["socket_lb_hostns_only"]),
    ("1.17", {"bpf": {"hostLegacyRouting": False}}, ["bpf_host_routing"]),
    ("1.17", {"bpf": {"hostLegacyRouting": True}}, []),
    ("1.18", {"bpf": {"datapathMode": "netkit"}}, ["netkit"]),
    ("1.18", {"enableIPv4BIGTCP": True, "enableIPv6BIGTCP": True}, ["ipv6_big_tcp", "ipv4_big_tcp"]),
    ("1.20", {"bandwidthManager": {"enabled": True, "bbr": True}}, ["bbr"]),
    ("1.20", {"bandwidthManager": {"enabled": False, "bbr": True}}, []),
    ("1.19", {"extraConfig": {"multicast-enabled": "true"}}, ["multicast"]),
])
def test_values_decide_features(line, values, features):
    assert feature_ids(pf.requirements(line + ".1", values)) == features


def test_ports_follow_values():
    req = pf.requirements("1.18.12", {
        "hubble": {"enabled": True, "relay": {"enabled": True}, "metrics": {"enabled": ["dns", "drop"]}},
        "prometheus": {"enabled": True}, "encryption": {"enabled": True, "type": "wireguard"}})
    ports = dict((p["purpose"], (p["protocol"], p["port"])) for p in req["ports"])
    assert ports["hubble-relay"] == ("tcp", 4245)
    assert ports["hubble-metrics"] == ("tcp", 9965)
    assert ports["agent-metrics"] == ("tcp", 9962)
    assert ports["wireguard"] == ("udp", 51871)
    req = pf.requirements("1.18.12", {"hubble": {"enabled": False, "relay": {"enabled": True}}})
    purposes = [p["purpose"] for p in req["ports"]]
    assert "hubble" not in purposes and "hubble-relay" not in purposes


@pytest.mark.parametrize("values, fragment", [
    ({"l7Proxy": "yes"}, "values key l7Proxy: expected bool (true/false), found string 'yes'"),
    ({"l7Proxy": 1}, "values key l7Proxy: expected bool (true/false), found int"),
    ({"routingMode": 5}, "values key routingMode: expected string, found int"),
    ({"routingMode": "bogus"}, "values key routingMode: 'bogus' is not one of"),
    ({"tunnelProtocol": "disabled"}, "values key tunnelProtocol"),
    ({"bpf": True}, "values key bpf: expected a dict, found bool"),
    ({"bpf": {"masquerade": "on"}}, "values key bpf.masquerade"),
    ({"tunnelPort": "abc"}, "values key tunnelPort: expected a port number"),
    ({"tunnelPort": 70000}, "outside 1-65535"),
    ({"kubeProxyReplacement": "strict"}, "pre-1.14 mode"),
    ({"encryption": {"enabled": True, "type": "foo"}}, "values key encryption.type"),
    ({"bpf": {"datapathMode": "tap"}}, "values key bpf.datapathMode"),
    ({"hubble": {"metrics": {"enabled": "dns"}}}, "values key hubble.metrics.enabled: expected list"),
    ({"extraConfig": ["x"]}, "values key extraConfig: expected dict"),
])
def test_wrong_value_types(values, fragment):
    with pytest.raises(ValueError) as err:
        pf.requirements("1.18.12", values)
    assert fragment in str(err.value)


def test_values_must_be_a_dict():
    with pytest.raises(ValueError) as err:
        pf.requirements("1.18.12", ["routingMode"])
    assert "expected a dict of Helm values, got list" in str(err.value)


def test_requirements_do_not_mutate_values():
    values = {"bpf": {"masquerade": True}}
    pf.requirements("1.18.12", values)
    assert values == {"bpf": {"masquerade": True}}


# ------------------------------------------------------------------------------------------ node verdict

def test_everything_present_passes():
    verdict = verdict_for()
    assert verdict["verdict"] == "pass", [c for c in verdict["checks"] if c["status"] != "pass"]
    assert verdict["kernel_release"] == "6.1.0-28-amd64"
    ids = [c["id"] for c in verdict["checks"]]
    assert len(ids) == len(set(ids))
    for cid in ("architecture", "kernel_version", "CONFIG_BPF_JIT", "bpffs", "bpffs_persisted", "cgroup2", "btf",
                "port:tcp/4240", "port:udp/8472", "firewall", "iptables_backends", "privileges"):
        assert cid in ids
    for item in verdict["checks"]:
        assert set(item) == {"id", "group", "status", "required", "found", "message"}
        assert item["status"] in pf.STATUSES


@pytest.mark.parametrize("name, value, status", [
    ("CONFIG_NET_CLS_BPF", "y", "pass"),
    ("CONFIG_NET_CLS_BPF", "m", "pass"),
    ("CONFIG_NET_CLS_BPF", DELETE, "fail"),
    ("CONFIG_NET_CLS_BPF", "n", "fail"),
    ("CONFIG_BPF_JIT", "y", "pass"),
    ("CONFIG_BPF_JIT", "m", "fail"),
    ("CONFIG_BPF_JIT", DELETE, "fail"),
    ("CONFIG_BPF_JIT", "n", "fail"),
    ("CONFIG_BPF_JIT", "\"yes\"", "fail"),
    ("CONFIG_FIB_RULES", "m", "fail"),
    ("CONFIG_VXLAN", "m", "pass"),
    ("CONFIG_SCHEDSTATS", DELETE, "fail"),
])
def test_y_m_rules(name, value, status):
    verdict = verdict_for(option_overrides={name: value})
    item = check(verdict, name)
    assert item["status"] == status
    assert item["required"] == ("y/m" if name in ("CONFIG_NET_CLS_BPF", "CONFIG_VXLAN") else "y")
    if status == "fail":
        assert verdict["verdict"] == "fail"
        assert name in item["message"]
    if value in ("n", DELETE):
        assert "is not set in /proc/config.gz" in item["message"]
        assert item["found"] == (None if value is DELETE else "n")


def test_bool_as_module_message():
    item = check(verdict_for(option_overrides={"CONFIG_BPF_JIT": "m"}), "CONFIG_BPF_JIT")
    assert "bool option and must be =y" in item["message"]


def test_warn_severity_options():
    verdict = verdict_for(values={"kubeProxyReplacement": True}, option_overrides={"CONFIG_INET_DIAG_DESTROY": "n"})
    assert check(verdict, "CONFIG_INET_DIAG_DESTROY")["status"] == "warn"
    assert verdict["verdict"] == "warn"


@pytest.mark.parametrize("version, release, distro_id, version_id, id_like, status", [
    ("1.16.19", "5.4.0-187-generic", "ubuntu", "20.04", None, "pass"),
    ("1.16.19", "4.19.0-27-amd64", "debian", "10", None, "fail"),
    ("1.18.12", "5.4.0-187-generic", "ubuntu", "20.04", None, "fail"),
    ("1.18.12", "5.10.0-33-amd64", "debian", "11", None, "pass"),
    ("1.18.12", "4.18.0-372.9.1.el8.x86_64", "rhel", "8.6", None, "pass"),
    ("1.18.12", "4.18.0-305.el8.x86_64", "rhel", "8.4", None, "fail"),
    ("1.18.12", "4.18.0-513.5.1.el8_9.x86_64", "rocky", "8.9", ["rhel", "centos", "fedora"], "pass"),
    ("1.18.12", "4.18.0-553.el8_10.x86_64", "almalinux", "8.10", ["rhel", "centos", "fedora"], "pass"),
    ("1.18.12", "4.18.0-553.el8_10.x86_64", "myrhel", "8.10", ["rhel"], "pass"),
    ("1.18.12", "4.18.0-372.el8.x86_64", "debian", "8.6", None, "fail"),
    ("1.18.12", "3.10.0-1160.el7.x86_64", "rhel", "8.6", None, "fail"),
    ("1.19.7", "4.18.0-372.9.1.el8.x86_64", "rhel", "8.6", None, "warn"),
    ("1.19.7", "4.18.0-553.el8_10.x86_64", "rhel", "8.10", None, "pass"),
    ("1.20.2", "4.18.0-305.el8.x86_64", "rhel", "8.4", None, "fail"),
])
def test_kernel_floor_with_backports(version, release, distro_id, version_id, id_like, status):
    verdict = verdict_for(version, release=release, distro_id=distro_id, version_id=version_id, id_like=id_like)
    item = check(verdict, "kernel_version")
    assert item["status"] == status, item["message"]
    assert item["found"] == release


def test_rhel84_message_explains():
    item = check(verdict_for(release="4.18.0-305.el8.x86_64", distro_id="rhel", version_id="8.4"), "kernel_version")
    assert "8.6+ is needed" in item["message"] and "5.10" in item["message"]


def test_unknown_kernel_release():
    verdict = verdict_for(kernel={"release": None, "release_source": None, "version": []})
    assert check(verdict, "kernel_version")["status"] == "unknown"
    assert verdict["kernel_release"] == "unknown"
    assert verdict["verdict"] == "unknown"


def test_unknown_kernel_config_never_passes():
    verdict = verdict_for(config_status="unknown", config_reason="/proc/config.gz and /boot/config-6.1.0 are missing")
    config_checks = [c for c in verdict["checks"] if c["id"].startswith("CONFIG_")]
    assert config_checks and all(c["status"] == "unknown" for c in config_checks)
    assert "are missing" in config_checks[0]["message"]
    assert verdict["verdict"] == "unknown"
    verdict = verdict_for(config_status="unknown", arch="s390x")
    assert verdict["verdict"] == "fail"


def test_missing_kernel_config_section_is_unknown():
    verdict = verdict_for(kernel_config=DELETE)
    assert check(verdict, "CONFIG_BPF")["status"] == "unknown"
    assert verdict["verdict"] == "unknown"


@pytest.mark.parametrize("arch, status", [("x86_64", "pass"), ("aarch64", "pass"), ("s390x", "fail"),
                                          ("armv7l", "fail"), (None, "unknown")])
def test_architecture(arch, status):
    assert check(verdict_for(arch=arch), "architecture")["status"] == status


def test_wireguard_needs_5_6_on_1_16():
    values = {"encryption": {"enabled": True, "type": "wireguard"}}
    old = verdict_for("1.16.19", values, release="5.4.0-187-generic")
    assert check(old, "feature:wireguard")["status"] == "fail"
    assert "encryption.enabled=true and encryption.type=wireguard" in check(old, "feature:wireguard")["message"]
    assert old["verdict"] == "fail"
    new = verdict_for("1.16.19", values, release="5.6.0-1-amd64")
    assert check(new, "feature:wireguard")["status"] == "pass"
    missing = verdict_for("1.16.19", values, release="5.15.0-91-generic", option_overrides={"CONFIG_WIREGUARD": "n"})
    assert check(missing, "CONFIG_WIREGUARD")["status"] == "fail"


def test_wireguard_backported_on_rhel_counts():
    values = {"encryption": {"enabled": True, "type": "wireguard"}}
    verdict = verdict_for("1.16.19", values, release="4.18.0-553.el8_10.x86_64", distro_id="rhel", version_id="8.10",
                          option_overrides={"CONFIG_INET_XFRM_MODE_TUNNEL": "m"})
    item = check(verdict, "feature:wireguard")
    assert item["status"] == "pass" and "backported" in item["message"]
    verdict = verdict_for("1.16.19", values, release="4.18.0-553.el8_10.x86_64", distro_id="rhel", version_id="8.10",
                          option_overrides={"CONFIG_WIREGUARD": DELETE})
    assert check(verdict, "feature:wireguard")["status"] == "fail"


@pytest.mark.parametrize("release, netkit, feature_status, option_status", [
    ("6.6.0-1-amd64", "y", "fail", "pass"),
    ("6.8.0-31-generic", "n", "pass", "fail"),
    ("6.8.0-31-generic", "y", "pass", "pass"),
    ("6.12.0-1-amd64", "m", "pass", "fail"),
])
def test_netkit_needs_6_8_and_config(release, netkit, feature_status, option_status):
    verdict = verdict_for("1.18.12", {"bpf": {"datapathMode": "netkit"}}, release=release,
                          option_overrides={"CONFIG_NETKIT": netkit})
    assert check(verdict, "feature:netkit")["status"] == feature_status
    assert check(verdict, "CONFIG_NETKIT")["status"] == option_status


@pytest.mark.parametrize("arch, release, status", [
    ("x86_64", "5.15.0-91-generic", "pass"),
    ("aarch64", "5.15.0-91-generic", "fail"),
    ("aarch64", "6.1.0-28-arm64", "pass"),
])
def test_multicast_per_architecture(arch, release, status):
    verdict = verdict_for("1.19.7", {"extraConfig": {"multicast-enabled": "true"}}, arch=arch, release=release)
    assert check(verdict, "feature:multicast")["status"] == status


def test_big_tcp_floors():
    verdict = verdict_for("1.18.12", {"enableIPv4BIGTCP": True, "enableIPv6BIGTCP": True},
                          release="6.1.0-28-amd64")
    assert check(verdict, "feature:ipv6_big_tcp")["status"] == "pass"
    assert check(verdict, "feature:ipv4_big_tcp")["status"] == "fail"
    assert "6.3" in check(verdict, "feature:ipv4_big_tcp")["message"]


def test_session_affinity_below_5_7_warns_on_1_16():
    verdict = verdict_for("1.16.19", {"kubeProxyReplacement": True}, release="5.4.0-187-generic")
    assert check(verdict, "feature:session_affinity")["status"] == "warn"


def test_btf_1_19_2_vs_1_19_3():
    facts = dict(option_overrides={"CONFIG_DEBUG_INFO_BTF": "n"}, btf=False)
    before = verdict_for("1.19.2", **facts)
    assert "CONFIG_DEBUG_INFO_BTF" not in statuses(before)
    assert check(before, "btf")["status"] == "skipped"
    assert before["verdict"] == "pass"
    after = verdict_for("1.19.3", **facts)
    assert check(after, "CONFIG_DEBUG_INFO_BTF")["status"] == "fail"
    assert check(after, "btf")["status"] == "fail"
    assert after["verdict"] == "fail"
    ok = verdict_for("1.19.3")
    assert check(ok, "btf")["status"] == "pass" and check(ok, "CONFIG_DEBUG_INFO_BTF")["status"] == "pass"
    offline = verdict_for("1.20.1", btf=None)
    assert check(offline, "btf")["status"] == "skipped"


def test_xfrm_mode_tunnel_only_on_old_kernels():
    values = {"encryption": {"enabled": True, "type": "ipsec"}}
    modern = verdict_for("1.18.12", values, release="6.1.0-28-amd64")
    assert check(modern, "CONFIG_INET_XFRM_MODE_TUNNEL")["status"] == "skipped"
    assert modern["verdict"] == "pass"
    rhel = verdict_for("1.18.12", values, release="4.18.0-553.el8_10.x86_64", distro_id="rhel", version_id="8.10")
    assert check(rhel, "CONFIG_INET_XFRM_MODE_TUNNEL")["status"] == "fail"
    rhel_ok = verdict_for("1.18.12", values, release="4.18.0-553.el8_10.x86_64", distro_id="rhel",
                          version_id="8.10", option_overrides={"CONFIG_INET_XFRM_MODE_TUNNEL": "m"})
    assert check(rhel_ok, "CONFIG_INET_XFRM_MODE_TUNNEL")["status"] == "pass"


@pytest.mark.parametrize("state, config_modules, status", [
    ("loadable", True, "pass"), ("loaded", True, "pass"), ("builtin", True, "pass"),
    ("missing", True, "fail"), (None, True, "unknown"), ("loadable", False, "fail"),
])
def test_modules_for_m_options(state, config_modules, status):
    modules_state = {} if state is None else {"vxlan": state}
    verdict = verdict_for(option_overrides={"CONFIG_VXLAN": "m"}, modules_state=modules_state,
                          config_modules=config_modules)
    assert check(verdict, "module:vxlan")["status"] == status
    assert check(verdict, "CONFIG_VXLAN")["status"] == "pass"


def test_no_module_checks_for_builtins():
    ids = statuses(verdict_for())
    assert not [cid for cid in ids if cid.startswith("module:")]


def test_shared_module_checked_once():
    verdict = verdict_for(option_overrides={"CONFIG_NETFILTER_XT_TARGET_MARK": "m",
                                            "CONFIG_NETFILTER_XT_MATCH_MARK": "m"})
    assert [c["id"] for c in verdict["checks"]].count("module:xt_mark") == 1


@pytest.mark.parametrize("kwargs, values, cid, status", [
    ({"bpffs_mounted": False}, {}, "bpffs", "warn"),
    ({"bpffs_mounted": False}, {"bpf": {"autoMount": {"enabled": False}}}, "bpffs", "fail"),
    ({"bpffs_persisted": False}, {}, "bpffs_persisted", "warn"),
    ({"cgroup2_mounted": False}, {}, "cgroup2", "skipped"),
    ({"cgroup2_mounted": False}, {"kubeProxyReplacement": True}, "cgroup2", "warn"),
    ({"cgroup2_mounted": False}, {"kubeProxyReplacement": True, "cgroup": {"autoMount": {"enabled": False}}},
     "cgroup2", "fail"),
    ({"firewall_findings": ["firewalld is running"]}, {}, "firewall", "warn"),
    ({"iptables_mixed": True}, {}, "iptables_backends", "warn"),
    ({"missing_caps": ["CAP_SYS_RESOURCE"]}, {}, "privileges", "warn"),
    ({"bpffs": DELETE}, {}, "bpffs", "unknown"),
    ({"firewall": DELETE}, {}, "firewall", "unknown"),
])
def test_host_checks(kwargs, values, cid, status):
    verdict = verdict_for("1.18.12", values, **kwargs)
    assert check(verdict, cid)["status"] == status


def test_ports_taken():
    ports = [{"port": 8472, "protocol": "udp", "purpose": "vxlan", "owner": "kernel"},
             {"port": 4240, "protocol": "tcp", "purpose": "health", "owner": "cilium-agent[812]"},
             {"port": 4244, "protocol": "udp", "purpose": "x", "owner": "other[1]"}]
    verdict = verdict_for(ports=ports)
    vxlan = check(verdict, "port:udp/8472")
    assert vxlan["status"] == "warn" and vxlan["found"] == "kernel" and "tunnelPort" in vxlan["message"]
    assert check(verdict, "port:tcp/4240")["status"] == "pass"
    assert check(verdict, "port:tcp/4244")["status"] == "pass"
    moved = verdict_for(values={"tunnelPort": 8473}, ports=ports)
    assert check(moved, "port:udp/8473")["status"] == "pass"


def test_verdict_order():
    assert verdict_for(bpffs_persisted=False)["verdict"] == "warn"
    assert verdict_for(bpffs_persisted=False, arch=None)["verdict"] == "unknown"
    assert verdict_for(bpffs_persisted=False, arch=None, option_overrides={"CONFIG_BPF": "n"})["verdict"] == "fail"


@pytest.mark.parametrize("facts, fragment", [
    ("not facts", "node node1: node_facts must be a dict, got string"),
    ({"kernel_config": {"status": "ok", "options": ["CONFIG_BPF"]}}, "node_facts.kernel_config.options"),
    ({"kernel": {"release": "6.1", "version": ["6", "1"]}}, "kernel.version must be a list of integers"),
    ({"ports": [8472]}, "node_facts.ports entries must be dicts"),
    ({"ports": "8472"}, "node_facts.ports must be a list"),
    ({"schema": 2}, "schema 2 is not supported"),
    ({"architecture": 64}, "architecture must be a string"),
    ({"bpffs": ["/sys/fs/bpf"]}, "node_facts.bpffs must be a dict"),
])
def test_malformed_facts_name_the_node(facts, fragment):
    req = pf.requirements("1.18.12")
    with pytest.raises(ValueError) as err:
        pf.node_verdict(facts, req, "node1")
    assert fragment in str(err.value)
    assert "node1" in str(err.value)


def test_node_name_defaults_to_hostname():
    with pytest.raises(ValueError) as err:
        pf.node_verdict({"hostname": "worker-7", "ports": "x"}, pf.requirements("1.18.12"))
    assert "node worker-7:" in str(err.value)


@pytest.mark.parametrize("req", [None, {}, {"line": "1.18"}, "1.18.12"])
@pytest.mark.parametrize("fresh_cache", [True, False])
def test_malformed_requirements(req, fresh_cache, monkeypatch):
    if fresh_cache:  # as in a new worker process: nothing planned yet
        monkeypatch.setattr(pf, "_PLAN_CACHE", [pf._NO_PLAN, None, None])
    with pytest.raises(ValueError) as err:
        pf.node_verdict(make_facts(), req, "node1")
    assert "cilium_requirements" in str(err.value)


# ------------------------------------------------------------------------------------- real kernel configs

def _fixture_facts(name, release, arch, distro_id="debian", version_id="12"):
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        loaded = load_config(handle.read(), name)
    return make_facts(release=release, arch=arch, distro_id=distro_id, version_id=version_id,
                      options=loaded["options"], config_modules=loaded["options"].get("CONFIG_MODULES") == "y")


def test_this_machines_kernel_fails_base_on_schedstats_and_user_api_hash():
    facts = _fixture_facts("node_kconfig_firecracker_6.18.44_nomodules.gz", "6.18.44-fc-v669", "x86_64")
    verdict = pf.node_verdict(facts, pf.requirements("1.18.12"), "localhost")
    failing = sorted(c["id"] for c in verdict["checks"] if c["status"] == "fail")
    assert failing == ["CONFIG_CRYPTO_USER_API_HASH", "CONFIG_SCHEDSTATS"]
    assert all(c["group"] == "base" for c in verdict["checks"] if c["status"] == "fail")
    assert verdict["verdict"] == "fail"
    geneve = pf.node_verdict(facts, pf.requirements("1.18.12", {"tunnelProtocol": "geneve"}), "localhost")
    assert check(geneve, "CONFIG_GENEVE")["status"] == "fail"
    wireguard_values = {"encryption": {"enabled": True, "type": "wireguard"}}
    wireguard = pf.node_verdict(facts, pf.requirements("1.18.12", wireguard_values), "localhost")
    assert check(wireguard, "CONFIG_WIREGUARD")["status"] == "fail"


@pytest.mark.parametrize("name, arch", [("node_kconfig_debian12_6.1.192_amd64_cloud.gz", "x86_64"),
                                        ("node_kconfig_debian12_6.1.192_arm64.gz", "aarch64")])
def test_debian12_kernel_config_meets_1_18_defaults(name, arch):
    facts = _fixture_facts(name, "6.1.0-28-cloud-amd64", arch)
    verdict = pf.node_verdict(facts, pf.requirements("1.18.12", {"kubeProxyReplacement": True}), "deb")
    bad = [(c["id"], c["status"]) for c in verdict["checks"] if c["status"] not in ("pass", "skipped")]
    assert bad == []
    assert check(verdict, "module:vxlan")["status"] == "pass"


# ------------------------------------------------------------------------------------------------ fleet

def test_fleet_summary_counts_and_order():
    results = {
        "a": verdict_for(),
        "b": verdict_for(bpffs_persisted=False),
        "c": verdict_for(config_status="unknown"),
        "d": verdict_for(option_overrides={"CONFIG_SCHEDSTATS": "n"}),
    }
    summary = pf.fleet_summary(results)
    assert summary["nodes"] == 4
    assert summary["verdicts"] == {"pass": 1, "warn": 1, "fail": 1, "unknown": 1}
    assert summary["verdict"] == "fail" and summary["ok"] is False
    assert summary["blocking_nodes"] == ["c", "d"] and summary["warning_nodes"] == ["b"]
    assert summary["checks"]["CONFIG_SCHEDSTATS"] == {"fail": 1, "warn": 0, "unknown": 1}
    assert summary["checks"]["bpffs_persisted"]["warn"] == 1


def test_fleet_unknown_is_not_ok():
    summary = pf.fleet_summary({"a": verdict_for(), "c": verdict_for(config_status="unknown")})
    assert summary["verdict"] == "unknown" and summary["ok"] is False
    summary = pf.fleet_summary({"a": verdict_for(), "b": verdict_for(bpffs_persisted=False)})
    assert summary["verdict"] == "warn" and summary["ok"] is True


def test_empty_fleet_is_unknown():
    summary = pf.fleet_summary({})
    assert summary["verdict"] == "unknown" and summary["ok"] is False


@pytest.mark.parametrize("results, fragment", [
    ([], "must be a dict of host"),
    ({"n1": "pass"}, "node n1: result is not a node verdict"),
    ({"n1": {"verdict": "great", "checks": []}}, "node n1: verdict 'great'"),
    ({"n1": {"verdict": "pass", "checks": [{"id": "x", "status": "meh"}]}}, "node n1: malformed check"),
])
def test_fleet_summary_rejects_bad_input(results, fragment):
    with pytest.raises(ValueError) as err:
        pf.fleet_summary(results)
    assert fragment in str(err.value)


def test_xfrm_mode_tunnel_with_unknown_kernel_release_is_unknown():
    values = {"encryption": {"enabled": True, "type": "ipsec"}}
    verdict = verdict_for("1.18.12", values, kernel={"release": None, "release_source": None, "version": []})
    assert check(verdict, "CONFIG_INET_XFRM_MODE_TUNNEL")["status"] == "unknown"
    present = verdict_for("1.18.12", values, kernel={"release": None, "release_source": None, "version": []},
                          option_overrides={"CONFIG_INET_XFRM_MODE_TUNNEL": "y"})
    assert check(present, "CONFIG_INET_XFRM_MODE_TUNNEL")["status"] == "pass"
