# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integrity of the requirements matrix (the one data file)."""

from __future__ import annotations

import re

import pytest

from ansible_collections.kubeshift.cilium.plugins.module_utils import _cilium_matrix as mx

ALL_OPTIONS = dict((o["name"], o) for g in mx.GROUPS for o in g["options"])


def test_every_line_has_a_floor():
    assert set(mx.KERNEL_FLOORS) == set(mx.SUPPORTED_LINES)
    for line, floor in mx.KERNEL_FLOORS.items():
        assert floor["version"] == ([5, 4, 0] if line in ("1.16", "1.17") else [5, 10, 0])
        for rule in floor["backports"]:
            assert rule["kernel"] == [4, 18, 0] and rule["min_distro_version"] == "8.6"
            assert "rhel" in rule["distros"]


def test_groups_are_well_formed():
    ids = [g["id"] for g in mx.GROUPS]
    assert len(ids) == len(set(ids))
    assert set(ids) >= {"base", "iptables_masquerading", "tunneling", "l7_proxy", "ipsec", "wireguard",
                        "bandwidth_manager", "netkit", "socket_lb", "btf"}
    for group in mx.GROUPS:
        names = [o["name"] for o in group["options"]]
        assert len(names) == len(set(names)), group["id"]
        for option in group["options"]:
            assert re.match(r"^CONFIG_[A-Z0-9_]+$", option["name"])
            assert option["type"] in ("bool", "tristate")
            assert option["severity"] in ("fail", "warn")
            assert option.get("when") in (None, "vxlan", "geneve")


@pytest.mark.parametrize("name", [
    "CONFIG_BPF", "CONFIG_BPF_SYSCALL", "CONFIG_BPF_JIT", "CONFIG_NET_CLS_ACT", "CONFIG_CGROUPS", "CONFIG_CGROUP_BPF",
    "CONFIG_PERF_EVENTS", "CONFIG_SCHEDSTATS", "CONFIG_FIB_RULES", "CONFIG_XFRM", "CONFIG_XFRM_OFFLOAD",
    "CONFIG_XFRM_STATISTICS", "CONFIG_NETKIT", "CONFIG_DEBUG_INFO_BTF",
])
def test_bool_options(name):
    assert ALL_OPTIONS[name]["type"] == "bool"


def test_required_for_all_supported_lines():
    base = [o for g in mx.GROUPS if g["id"] == "base" for o in g["options"]]
    by_name = dict((o["name"], o) for o in base)
    assert by_name["CONFIG_CRYPTO_USER_API_HASH"]["severity"] == "fail"
    assert by_name["CONFIG_SCHEDSTATS"]["severity"] == "fail"
    assert "CONFIG_XFRM" in by_name
    assert ALL_OPTIONS["CONFIG_INET_XFRM_MODE_TUNNEL"]["below_kernel"] == [5, 2, 0]


def test_modules_map_only_tristates():
    for name, module in mx.MODULES.items():
        assert name in ALL_OPTIONS, name
        assert ALL_OPTIONS[name]["type"] == "tristate", name
        assert re.match(r"^[A-Za-z0-9_]+$", module)
    assert mx.MODULES["CONFIG_VXLAN"] == "vxlan"
    for name, option in ALL_OPTIONS.items():
        if option["type"] == "tristate":
            assert name in mx.MODULES, name


def test_patch_rules():
    groups = set(g["id"] for g in mx.GROUPS)
    for rule in mx.PATCH_RULES:
        assert rule["group"] in groups and rule["line"] in mx.SUPPORTED_LINES
        assert rule["from"][:2] == [int(x) for x in rule["line"].split(".")]
    assert {"group": "btf", "line": "1.19", "from": [1, 19, 3]}.items() <= mx.PATCH_RULES[0].items()


def test_features():
    groups = set(g["id"] for g in mx.GROUPS)
    floors = dict((f["id"], f["min_kernel"]) for f in mx.FEATURES)
    assert floors == {"wireguard": [5, 6, 0], "session_affinity": [5, 7, 0], "bpf_tproxy": [5, 7, 0],
                      "socket_lb_hostns_only": [5, 7, 0], "bpf_host_routing": [5, 10, 0], "multicast": [5, 10, 0],
                      "bbr": [5, 18, 0], "ipv6_big_tcp": [5, 19, 0], "ipv4_big_tcp": [6, 3, 0], "netkit": [6, 8, 0]}
    for feature in mx.FEATURES:
        assert feature["trigger"] in mx.FEATURE_TRIGGERS
        assert feature["group"] is None or feature["group"] in groups
        assert set(feature["lines"]) <= set(mx.SUPPORTED_LINES)
        assert feature["severity"] in ("fail", "warn")
        # rows below 5.10 were dropped upstream from 1.18 on; they stay for 1.16/1.17
        if feature["min_kernel"] < [5, 10, 0] or feature["id"] == "bpf_host_routing":
            assert feature["lines"] == ["1.16", "1.17"], feature["id"]
        else:
            assert feature["lines"] == list(mx.SUPPORTED_LINES), feature["id"]


def test_ports():
    for port in mx.PORTS:
        assert port["protocol"] in ("tcp", "udp")
        assert isinstance(port.get("port", port.get("default")), int)
    by_purpose = dict((p["purpose"], p) for p in mx.PORTS)
    assert by_purpose["health"]["port"] == 4240
    assert by_purpose["vxlan"]["default"] == 8472 and by_purpose["geneve"]["default"] == 6081
    assert by_purpose["wireguard"]["port"] == 51871 and by_purpose["wireguard"]["protocol"] == "udp"
    assert [by_purpose[p].get("default") for p in ("agent-metrics", "operator-metrics", "envoy-metrics",
                                                   "hubble-metrics")] == [9962, 9963, 9964, 9965]


def test_architectures():
    assert set(mx.ARCHITECTURES.values()) == {"amd64", "arm64"}
