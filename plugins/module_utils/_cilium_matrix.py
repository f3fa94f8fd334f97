# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE to the kubeshift.cilium collection: no API guarantee, may change at any time.
"""Cilium's node requirements per minor line: the one data file, no logic.

Everything the preflight decides is read from the literals below by ``_preflight.py``.

Sources (see the project's reference notes on Cilium): upstream ``system_requirements.rst``
(1.13/1.14-era and 1.19-era text plus PR history), ``kubeproxy-free.rst``, ``encryption-wireguard.rst``,
``tuning.rst`` and the official Helm charts 1.16-1.20.

Shapes
------
``SUPPORTED_LINES``
    Minor lines this collection knows, oldest first.
``KERNEL_FLOORS[line]``
    ``version``: minimum upstream kernel ``[major, minor, patch]``.
    ``backports``: distro rules; a node whose distro ``id`` (or ``id_like``) is in ``distros`` with
    ``VERSION_ID >= min_distro_version`` passes with a kernel ``>= kernel``. ``recommended_distro_version``
    (optional) makes versions between the minimum and it a *warn*.
``GROUPS``
    Kernel-config groups in report order. ``options``: ``name``, Kconfig ``type`` (``bool`` accepts only
    ``y``; ``tristate`` accepts ``y`` or ``m``), ``severity`` (``fail``/``warn``), optional ``when`` (an
    option tag the decision code switches on, e.g. which tunnel protocol), optional ``below_kernel`` (only
    checked on kernels older than this; the option vanished from Kconfig at that release) and ``note``.
``PATCH_RULES``
    Groups that become mandatory at a patch level. ``from`` is ``[major, minor, patch]``; pre-release
    suffixes are ignored when comparing (``1.19.3-rc.1`` counts as ``1.19.3``).
``FEATURES``
    Advanced features with their minimum kernel. ``lines``: lines the row applies to (upstream dropped
    rows below a line's floor from its docs). ``min_kernel_by_arch`` overrides ``min_kernel`` per
    ``uname -m``. ``severity``: outcome when the kernel is too old. ``trigger``: id of the Helm-value test
    in ``FEATURE_TRIGGERS``. ``group``: kernel-config group the feature also needs (or None).
``FEATURE_TRIGGERS``
    Documentation of the Helm values behind each trigger id (the tests themselves live in
    ``_preflight.py`` because they combine several keys).
``MODULES``
    Kernel-config option -> module name, for options built as ``=m``.
``PORTS``
    Ports Cilium listens on per node, with the Helm value that turns each on.
``ARCHITECTURES``
    ``uname -m`` values Cilium ships images for, and their Debian-style aliases.
"""

from __future__ import annotations

SUPPORTED_LINES = ("1.16", "1.17", "1.18", "1.19", "1.20")

_RHEL_FAMILY = ["rhel", "centos", "rocky", "almalinux", "ol"]

KERNEL_FLOORS = {
    "1.16": {
        "version": [5, 4, 0],
        "backports": [
            {"distro": "rhel", "distros": _RHEL_FAMILY, "min_distro_version": "8.6", "kernel": [4, 18, 0]},
        ],
    },
    "1.17": {
        "version": [5, 4, 0],
        "backports": [
            {"distro": "rhel", "distros": _RHEL_FAMILY, "min_distro_version": "8.6", "kernel": [4, 18, 0]},
        ],
    },
    "1.18": {
        "version": [5, 10, 0],
        "backports": [
            {"distro": "rhel", "distros": _RHEL_FAMILY, "min_distro_version": "8.6", "kernel": [4, 18, 0]},
        ],
    },
    "1.19": {
        "version": [5, 10, 0],
        "backports": [
            {"distro": "rhel", "distros": _RHEL_FAMILY, "min_distro_version": "8.6", "kernel": [4, 18, 0],
             "recommended_distro_version": "8.10"},
        ],
    },
    "1.20": {
        "version": [5, 10, 0],
        "backports": [
            {"distro": "rhel", "distros": _RHEL_FAMILY, "min_distro_version": "8.6", "kernel": [4, 18, 0],
             "recommended_distro_version": "8.10"},
        ],
    },
}

GROUPS = [
    {
        "id": "base",
        "title": "Base requirements",
        "options": [
            {"name": "CONFIG_BPF", "type": "bool", "severity": "fail"},
            {"name": "CONFIG_BPF_SYSCALL", "type": "bool", "severity": "fail"},
            {"name": "CONFIG_BPF_JIT", "type": "bool", "severity": "fail"},
            {"name": "CONFIG_NET_CLS_BPF", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_NET_CLS_ACT", "type": "bool", "severity": "fail"},
            {"name": "CONFIG_NET_SCH_INGRESS", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_CRYPTO_SHA1", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_CRYPTO_USER_API_HASH", "type": "tristate", "severity": "fail",
             "note": "listed for every line up to 1.20 (dropped from the docs only for 1.21)"},
            {"name": "CONFIG_CGROUPS", "type": "bool", "severity": "fail"},
            {"name": "CONFIG_CGROUP_BPF", "type": "bool", "severity": "fail"},
            {"name": "CONFIG_PERF_EVENTS", "type": "bool", "severity": "fail"},
            {"name": "CONFIG_SCHEDSTATS", "type": "bool", "severity": "fail",
             "note": "the agent's /proc/schedstat jiffies probe needs it"},
            {"name": "CONFIG_XFRM", "type": "bool", "severity": "fail",
             "note": "the agent fails creating its netlink handle without it, even with IPsec off"},
        ],
    },
    {
        "id": "iptables_masquerading",
        "title": "iptables-based masquerading",
        "options": [
            {"name": "CONFIG_NETFILTER_XT_SET", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_IP_SET", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_IP_SET_HASH_IP", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_NETFILTER_XT_MATCH_COMMENT", "type": "tristate", "severity": "fail"},
        ],
    },
    {
        "id": "tunneling",
        "title": "Tunneling and routing",
        "options": [
            {"name": "CONFIG_FIB_RULES", "type": "bool", "severity": "fail",
             "note": "policy routing; set it with scripts/config on custom kernels, hand edits get dropped"},
            {"name": "CONFIG_VXLAN", "type": "tristate", "severity": "fail", "when": "vxlan",
             "note": "the agent cannot create cilium_vxlan without it"},
            {"name": "CONFIG_GENEVE", "type": "tristate", "severity": "fail", "when": "geneve"},
        ],
    },
    {
        "id": "l7_proxy",
        "title": "L7 and FQDN policies",
        "options": [
            {"name": "CONFIG_NETFILTER_XT_TARGET_TPROXY", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_NETFILTER_XT_TARGET_MARK", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_NETFILTER_XT_TARGET_CT", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_NETFILTER_XT_MATCH_MARK", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_NETFILTER_XT_MATCH_SOCKET", "type": "tristate", "severity": "fail",
             "note": "without xt_socket Cilium disables ip_early_demux as a fallback in native routing"},
        ],
    },
    {
        "id": "ipsec",
        "title": "IPsec transparent encryption",
        "options": [
            {"name": "CONFIG_XFRM", "type": "bool", "severity": "fail"},
            {"name": "CONFIG_XFRM_OFFLOAD", "type": "bool", "severity": "fail"},
            {"name": "CONFIG_XFRM_STATISTICS", "type": "bool", "severity": "fail"},
            {"name": "CONFIG_XFRM_ALGO", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_XFRM_USER", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_INET_ESP", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_INET6_ESP", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_INET_IPCOMP", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_INET6_IPCOMP", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_INET_XFRM_TUNNEL", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_INET6_XFRM_TUNNEL", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_INET_TUNNEL", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_INET6_TUNNEL", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_INET_XFRM_MODE_TUNNEL", "type": "tristate", "severity": "fail",
             "below_kernel": [5, 2, 0], "note": "built in (no longer a Kconfig option) since Linux 5.2"},
            {"name": "CONFIG_CRYPTO_AEAD", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_CRYPTO_AEAD2", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_CRYPTO_GCM", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_CRYPTO_SEQIV", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_CRYPTO_CBC", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_CRYPTO_HMAC", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_CRYPTO_SHA256", "type": "tristate", "severity": "fail"},
            {"name": "CONFIG_CRYPTO_AES", "type": "tristate", "severity": "fail"},
        ],
    },
    {
        "id": "wireguard",
        "title": "WireGuard transparent encryption",
        "options": [
            {"name": "CONFIG_WIREGUARD", "type": "tristate", "severity": "fail"},
        ],
    },
    {
        "id": "bandwidth_manager",
        "title": "Bandwidth manager",
        "options": [
            {"name": "CONFIG_NET_SCH_FQ", "type": "tristate", "severity": "fail"},
        ],
    },
    {
        "id": "netkit",
        "title": "netkit device mode",
        "options": [
            {"name": "CONFIG_NETKIT", "type": "bool", "severity": "fail"},
        ],
    },
    {
        "id": "socket_lb",
        "title": "Socket-LB helpers (force-closing UDP sockets to deleted backends)",
        "options": [
            {"name": "CONFIG_INET_DIAG", "type": "tristate", "severity": "warn"},
            {"name": "CONFIG_INET_UDP_DIAG", "type": "tristate", "severity": "warn"},
            {"name": "CONFIG_INET_DIAG_DESTROY", "type": "bool", "severity": "warn"},
        ],
    },
    {
        "id": "btf",
        "title": "BTF type information",
        "options": [
            {"name": "CONFIG_DEBUG_INFO_BTF", "type": "bool", "severity": "fail",
             "note": "without BTF the agent cannot load its socket-LB programs"},
        ],
    },
]

PATCH_RULES = [
    {"group": "btf", "line": "1.19", "from": [1, 19, 3],
     "reason": "Cilium 1.19.3 and later need kernel BTF"},
    {"group": "btf", "line": "1.20", "from": [1, 20, 0],
     "reason": "every Cilium 1.20 release needs kernel BTF"},
]

_ALL_LINES = ["1.16", "1.17", "1.18", "1.19", "1.20"]
_PRE_510_LINES = ["1.16", "1.17"]

FEATURES = [
    {"id": "wireguard", "title": "WireGuard transparent encryption", "min_kernel": [5, 6, 0],
     "lines": _PRE_510_LINES, "severity": "fail", "trigger": "wireguard", "group": "wireguard"},
    {"id": "session_affinity", "title": "Full session affinity", "min_kernel": [5, 7, 0],
     "lines": _PRE_510_LINES, "severity": "warn", "trigger": "kube_proxy_replacement", "group": None},
    {"id": "bpf_tproxy", "title": "BPF-based proxy redirection", "min_kernel": [5, 7, 0],
     "lines": _PRE_510_LINES, "severity": "fail", "trigger": "bpf_tproxy", "group": None},
    {"id": "socket_lb_hostns_only", "title": "Socket-level LB bypass in pod netns", "min_kernel": [5, 7, 0],
     "lines": _PRE_510_LINES, "severity": "fail", "trigger": "socket_lb_hostns_only", "group": None},
    {"id": "bpf_host_routing", "title": "BPF-based host routing", "min_kernel": [5, 10, 0],
     "lines": _PRE_510_LINES, "severity": "warn", "trigger": "bpf_host_routing", "group": None},
    {"id": "multicast", "title": "Multicast", "min_kernel": [5, 10, 0],
     "min_kernel_by_arch": {"aarch64": [6, 0, 0]},
     "lines": _ALL_LINES, "severity": "fail", "trigger": "multicast", "group": None},
    {"id": "bbr", "title": "BBR congestion control for pods", "min_kernel": [5, 18, 0],
     "lines": _ALL_LINES, "severity": "fail", "trigger": "bbr", "group": "bandwidth_manager"},
    {"id": "ipv6_big_tcp", "title": "IPv6 BIG TCP", "min_kernel": [5, 19, 0],
     "lines": _ALL_LINES, "severity": "fail", "trigger": "ipv6_big_tcp", "group": None},
    {"id": "ipv4_big_tcp", "title": "IPv4 BIG TCP", "min_kernel": [6, 3, 0],
     "lines": _ALL_LINES, "severity": "fail", "trigger": "ipv4_big_tcp", "group": None},
    {"id": "netkit", "title": "netkit device mode", "min_kernel": [6, 8, 0],
     "lines": _ALL_LINES, "severity": "fail", "trigger": "netkit", "group": "netkit"},
]

FEATURE_TRIGGERS = {
    "wireguard": "encryption.enabled=true and encryption.type=wireguard",
    "kube_proxy_replacement": "kubeProxyReplacement=true (session affinity is on by default with KPR)",
    "bpf_tproxy": "bpf.tproxy=true",
    "socket_lb_hostns_only": "socketLB.hostNamespaceOnly=true",
    "bpf_host_routing": "bpf.hostLegacyRouting=false (explicit)",
    "multicast": "extraConfig.multicast-enabled=true (no chart key up to 1.20)",
    "bbr": "bandwidthManager.enabled=true and bandwidthManager.bbr=true",
    "ipv6_big_tcp": "enableIPv6BIGTCP=true",
    "ipv4_big_tcp": "enableIPv4BIGTCP=true",
    "netkit": "bpf.datapathMode=netkit or netkit-l2",
}

MODULES = {
    "CONFIG_NET_CLS_BPF": "cls_bpf",
    "CONFIG_NET_SCH_INGRESS": "sch_ingress",
    "CONFIG_CRYPTO_SHA1": "sha1_generic",
    "CONFIG_CRYPTO_USER_API_HASH": "algif_hash",
    "CONFIG_NETFILTER_XT_SET": "xt_set",
    "CONFIG_IP_SET": "ip_set",
    "CONFIG_IP_SET_HASH_IP": "ip_set_hash_ip",
    "CONFIG_NETFILTER_XT_MATCH_COMMENT": "xt_comment",
    "CONFIG_VXLAN": "vxlan",
    "CONFIG_GENEVE": "geneve",
    "CONFIG_NETFILTER_XT_TARGET_TPROXY": "xt_TPROXY",
    "CONFIG_NETFILTER_XT_TARGET_MARK": "xt_mark",
    "CONFIG_NETFILTER_XT_TARGET_CT": "xt_CT",
    "CONFIG_NETFILTER_XT_MATCH_MARK": "xt_mark",
    "CONFIG_NETFILTER_XT_MATCH_SOCKET": "xt_socket",
    "CONFIG_XFRM_ALGO": "xfrm_algo",
    "CONFIG_XFRM_USER": "xfrm_user",
    "CONFIG_INET_ESP": "esp4",
    "CONFIG_INET6_ESP": "esp6",
    "CONFIG_INET_IPCOMP": "ipcomp",
    "CONFIG_INET6_IPCOMP": "ipcomp6",
    "CONFIG_INET_XFRM_TUNNEL": "xfrm4_tunnel",
    "CONFIG_INET6_XFRM_TUNNEL": "xfrm6_tunnel",
    "CONFIG_INET_TUNNEL": "tunnel4",
    "CONFIG_INET6_TUNNEL": "tunnel6",
    "CONFIG_INET_XFRM_MODE_TUNNEL": "xfrm4_mode_tunnel",
    "CONFIG_CRYPTO_AEAD": "aead",
    "CONFIG_CRYPTO_AEAD2": "aead",
    "CONFIG_CRYPTO_GCM": "gcm",
    "CONFIG_CRYPTO_SEQIV": "seqiv",
    "CONFIG_CRYPTO_CBC": "cbc",
    "CONFIG_CRYPTO_HMAC": "hmac",
    "CONFIG_CRYPTO_SHA256": "sha256_generic",
    "CONFIG_CRYPTO_AES": "aes_generic",
    "CONFIG_WIREGUARD": "wireguard",
    "CONFIG_NET_SCH_FQ": "sch_fq",
    "CONFIG_INET_DIAG": "inet_diag",
    "CONFIG_INET_UDP_DIAG": "udp_diag",
}

# ``port``: a number, or the Helm key holding it with ``default`` used for 0/empty.
# ``when``: id of the values test in ``_preflight.py`` that turns the listener on.
PORTS = [
    {"purpose": "health", "protocol": "tcp", "port": 4240, "when": "always"},
    {"purpose": "vxlan", "protocol": "udp", "port_key": "tunnelPort", "default": 8472, "when": "tunnel_vxlan"},
    {"purpose": "geneve", "protocol": "udp", "port_key": "tunnelPort", "default": 6081, "when": "tunnel_geneve"},
    {"purpose": "hubble", "protocol": "tcp", "port": 4244, "when": "hubble"},
    {"purpose": "hubble-relay", "protocol": "tcp", "port": 4245, "when": "hubble_relay"},
    {"purpose": "wireguard", "protocol": "udp", "port": 51871, "when": "wireguard"},
    {"purpose": "agent-metrics", "protocol": "tcp", "port_key": "prometheus.port", "default": 9962,
     "when": "agent_metrics"},
    {"purpose": "operator-metrics", "protocol": "tcp", "port_key": "operator.prometheus.port", "default": 9963,
     "when": "operator_metrics"},
    {"purpose": "envoy-metrics", "protocol": "tcp", "port_key": "envoy.prometheus.port", "default": 9964,
     "when": "envoy_metrics"},
    {"purpose": "hubble-metrics", "protocol": "tcp", "port_key": "hubble.metrics.port", "default": 9965,
     "when": "hubble_metrics"},
]

ARCHITECTURES = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
}
