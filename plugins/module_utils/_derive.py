# -*- coding: utf-8 -*-
# Copyright (c) kubeshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Derive Cilium Helm values from the cluster facts built by ``_cluster.build_cluster_facts``.

Private module, no API guarantee. Pure: facts and the operator's values in, values out.

Precedence (lowest first): built-in defaults < cluster-derived < ``cilium_values_files`` < ``cilium_values``.
This module returns the first two layers merged (``values``); the caller merges the operator's layers on
top with the collection's single merge implementation (``cilium_merge_values``). The operator's merged
values are passed in as ``user_values`` so that decisions follow them (an operator who picks
``routingMode: native`` gets a native-routing CIDR derived for it) and so that the *effective* result is
validated: pod CIDR vs service CIDR vs node addresses (netaddr), native-routing CIDR coverage, tunnel port
collision with Flannel while both run, IPAM ``kubernetes`` without node podCIDRs, KPR off.
Problems raise ``DeriveError`` (a ``ValueError``) listing every problem found.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional

from ansible_collections.kubeshift.cilium.plugins.module_utils._cluster import (
    ip_family,
    normalise_cidr,
    require_netaddr,
)

try:
    import netaddr
except ImportError:  # pragma: no cover - require_netaddr() reports it
    netaddr = None

IPAM_MODES = ("auto", "kubernetes", "cluster-pool")
ROUTING_MODES = ("auto", "tunnel", "native")
TUNNEL_DEFAULT_PORTS = {"vxlan": 8472, "geneve": 6081}
# Port used for Cilium's VXLAN when Flannel's VXLAN (8472) still runs next to it (upstream migration guide).
ALTERNATE_VXLAN_PORT = 8473
_MISSING = object()


class DeriveError(ValueError):
    """The facts or the operator's values make a safe set of values impossible."""


def get_path(values: Dict[str, Any], path: str, default: Any = None) -> Any:
    cur: Any = values
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return default
        cur = cur[part]
    return cur


def set_path(values: Dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    cur = values
    for part in parts[:-1]:
        nxt = cur.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            cur[part] = nxt
        cur = nxt
    cur[parts[-1]] = value


def _as_list(value: Any) -> List[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.replace(" ", ",").split(",") if v.strip()]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def default_options() -> Dict[str, Any]:
    return {
        "ipam_mode": "auto",
        "cluster_pool_cidr": None,
        "cluster_pool_ipv6_cidr": None,
        "routing": "auto",
        "flannel_coexists": None,
        "alternate_tunnel_port": ALTERNATE_VXLAN_PORT,
        "require_kpr": True,
    }


def derive_values(facts: Dict[str, Any], user_values: Optional[Dict[str, Any]] = None,
                  options: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Return ``{"values", "decisions", "warnings", "effective"}`` for these facts.

    ``values``: built-in defaults + cluster-derived layer. ``decisions``: one human sentence per
    derived key. ``effective``: the few keys that were validated, as they will be after the operator's
    layers are merged on top.
    """
    require_netaddr()
    if not isinstance(facts, dict) or facts.get("schema") != 1:
        raise DeriveError("cluster facts must be the schema-1 mapping produced by cilium_cluster_facts")
    user = user_values or {}
    if not isinstance(user, dict):
        raise DeriveError("operator values must be a mapping, got %s" % type(user).__name__)
    opts = default_options()
    for key, value in (options or {}).items():
        if key not in opts:
            raise DeriveError("unknown option %r (known: %s)" % (key, ", ".join(sorted(opts))))
        if value is not None:
            opts[key] = value
    if opts["ipam_mode"] not in IPAM_MODES:
        raise DeriveError("ipam_mode must be one of %s, got %r" % (", ".join(IPAM_MODES), opts["ipam_mode"]))
    if opts["routing"] not in ROUTING_MODES:
        raise DeriveError("routing must be one of %s, got %r" % (", ".join(ROUTING_MODES), opts["routing"]))

    def eff(path: str, derived: Dict[str, Any]) -> Any:
        value = get_path(user, path, _MISSING)
        return get_path(derived, path) if value is _MISSING else value

    values: Dict[str, Any] = {}
    decisions: List[str] = []
    warnings: List[str] = list(facts.get("warnings") or [])
    errors: List[str] = []
    kubeadm = facts.get("kubeadm") or {}
    flannel = facts.get("flannel") or {}
    net_conf = flannel.get("net_conf") or {}
    nodes = facts.get("nodes") or []

    # Built-in defaults: kube-proxy-free, BPF masquerading, Cilium owns the CNI config directory.
    set_path(values, "kubeProxyReplacement", True)
    set_path(values, "bpf.masquerade", True)
    set_path(values, "cni.exclusive", True)
    decisions.append("kubeProxyReplacement=true, bpf.masquerade=true, cni.exclusive=true (built-in defaults)")
    replicas = 2 if len(nodes) >= 2 else 1
    set_path(values, "operator.replicas", replicas)
    decisions.append("operator.replicas=%d (%d node(s); the operator pods repel each other)" % (replicas, len(nodes)))

    # API endpoint
    endpoint = facts.get("api_endpoint")
    if endpoint:
        set_path(values, "k8sServiceHost", endpoint["host"])
        set_path(values, "k8sServicePort", int(endpoint["port"]))
        decisions.append("k8sServiceHost=%s k8sServicePort=%s (%s, %s)"
                         % (endpoint["host"], endpoint["port"], endpoint.get("source"), endpoint.get("kind")))

    # Pod networks known to the cluster
    pod4 = [c for c in kubeadm.get("pod_subnets") or [] if ":" not in c]
    pod6 = [c for c in kubeadm.get("pod_subnets") or [] if ":" in c]
    if net_conf.get("network"):
        flannel4 = [net_conf["network"]]
    else:
        flannel4 = []
    flannel6 = [net_conf["ipv6_network"]] if net_conf.get("ipv6_network") else []
    ipv6 = bool(pod6 or flannel6)
    if ipv6:
        set_path(values, "ipv6.enabled", True)
        decisions.append("ipv6.enabled=true (the cluster has an IPv6 pod network)")

    # IPAM
    nodes_without4 = [n["name"] for n in nodes if not any(":" not in c for c in n.get("pod_cidrs") or [])]
    ipam = opts["ipam_mode"]
    if ipam == "auto":
        ipam = "kubernetes" if nodes and not nodes_without4 else "cluster-pool"
        reason = ("every node has a podCIDR from kube-controller-manager: reuse them" if ipam == "kubernetes"
                  else "node(s) without podCIDR (%s): Cilium allocates from a pool" % ", ".join(nodes_without4)
                  if nodes_without4 else "no nodes listed")
    else:
        reason = "requested"
    set_path(values, "ipam.mode", ipam)
    pool4: List[str] = []
    pool6: List[str] = []
    if ipam == "cluster-pool":
        pool4 = _as_list(opts["cluster_pool_cidr"]) or flannel4 or pod4
        pool6 = _as_list(opts["cluster_pool_ipv6_cidr"]) or flannel6 or pod6
        if pool4:
            pool4 = [normalise_cidr(c, "cluster-pool CIDR") for c in pool4]
            set_path(values, "ipam.operator.clusterPoolIPv4PodCIDRList", pool4)
            node_masks = sorted({int(c.split("/")[1]) for n in nodes for c in n.get("pod_cidrs") or [] if ":" not in c})
            mask = node_masks[0] if len(node_masks) == 1 else int(net_conf.get("subnet_len") or 24)
            set_path(values, "ipam.operator.clusterPoolIPv4MaskSize", mask)
        if ipv6 and pool6:
            pool6 = [normalise_cidr(c, "cluster-pool IPv6 CIDR") for c in pool6]
            set_path(values, "ipam.operator.clusterPoolIPv6PodCIDRList", pool6)
        decisions.append("ipam.mode=cluster-pool with %s (%s)" % (",".join(pool4 + pool6) or "?", reason))
    else:
        decisions.append("ipam.mode=%s (%s)" % (ipam, reason))

    # Routing
    user_routing = get_path(user, "routingMode", _MISSING)
    l2 = facts.get("l2") or {}
    routing = opts["routing"]
    if routing == "auto":
        if user_routing not in (_MISSING, None, ""):
            routing = str(user_routing)
            why = "set in the operator's values"
        elif l2.get("shared"):
            routing = "native"
            why = "nodes share one L2 segment: %s" % l2.get("reason")
        else:
            routing = "tunnel"
            why = "nodes not known to share an L2 segment: %s" % (l2.get("reason") or "no information")
    else:
        why = "requested"
    set_path(values, "routingMode", routing)
    native_cidr4 = pool4[0] if pool4 else (pod4[0] if pod4 else (flannel4[0] if flannel4 else None))
    native_cidr6 = pool6[0] if pool6 else (pod6[0] if pod6 else (flannel6[0] if flannel6 else None))
    if routing == "native":
        if native_cidr4:
            set_path(values, "ipv4NativeRoutingCIDR", native_cidr4)
        if ipv6 and native_cidr6:
            set_path(values, "ipv6NativeRoutingCIDR", native_cidr6)
        auto_routes = bool(l2.get("shared"))
        set_path(values, "autoDirectNodeRoutes", auto_routes)
        decisions.append("routingMode=native, ipv4NativeRoutingCIDR=%s, autoDirectNodeRoutes=%s (%s)"
                         % (native_cidr4, str(auto_routes).lower(), why))
        if not auto_routes:
            warnings.append("native routing without a shared L2 segment: the network must route the pod CIDRs "
                            "(BGP or static routes); autoDirectNodeRoutes stays off")
    else:
        set_path(values, "tunnelProtocol", "vxlan")
        decisions.append("routingMode=tunnel, tunnelProtocol=vxlan (%s)" % why)

    # Tunnel port vs Flannel
    coexists = opts["flannel_coexists"]
    if coexists is None:
        coexists = bool(flannel.get("present"))
    backend = net_conf.get("backend") or {}
    flannel_port = backend.get("port") if backend.get("type") == "vxlan" else None
    if coexists and flannel_port and eff("routingMode", values) == "tunnel":
        proto = eff("tunnelProtocol", values) or "vxlan"
        port = eff("tunnelPort", values) or TUNNEL_DEFAULT_PORTS.get(proto)
        if proto == "vxlan" and int(port) == int(flannel_port) and get_path(user, "tunnelPort", _MISSING) is _MISSING:
            alt = int(opts["alternate_tunnel_port"])
            set_path(values, "tunnelPort", alt)
            decisions.append("tunnelPort=%d (Flannel's VXLAN uses %d while both run)" % (alt, flannel_port))

    # ----- validation of the effective values -----
    if _truthy(opts["require_kpr"]) and not _truthy(eff("kubeProxyReplacement", values)):
        errors.append("kubeProxyReplacement is %r but kube-proxy is being removed: it must be true"
                      % eff("kubeProxyReplacement", values))
    host = eff("k8sServiceHost", values)
    if not host:
        errors.append("k8sServiceHost is unknown: kubeadm-config has no controlPlaneEndpoint, kube-public/cluster-info "
                      "was not readable and no kubeconfig server was given; set cilium_values.k8sServiceHost")
    port = eff("k8sServicePort", values)
    if host and host != "auto":
        try:
            port_i = int(port)
            if not 0 < port_i < 65536:
                raise ValueError
        except (TypeError, ValueError):
            errors.append("k8sServicePort %r is not a TCP port" % (port,))

    service = list(kubeadm.get("service_subnets") or [])
    eff_ipam = eff("ipam.mode", values)
    if eff_ipam == "kubernetes":
        if nodes_without4:
            errors.append("ipam.mode=kubernetes but node(s) %s have no podCIDR (kube-controller-manager "
                          "--allocate-node-cidrs is off?)" % ", ".join(nodes_without4))
        eff_pods = sorted({c for n in nodes for c in n.get("pod_cidrs") or []})
        pod_source = "node podCIDRs"
    elif eff_ipam == "cluster-pool":
        eff_pods = _as_list(eff("ipam.operator.clusterPoolIPv4PodCIDRList", values)) + \
            (_as_list(eff("ipam.operator.clusterPoolIPv6PodCIDRList", values)) if ipv6 else [])
        pod_source = "ipam.operator.clusterPoolIPv4PodCIDRList"
        if not eff_pods:
            errors.append("ipam.mode=cluster-pool but no pod CIDR is known (no Flannel Network, no kubeadm podSubnet): "
                          "set cilium_values.ipam.operator.clusterPoolIPv4PodCIDRList")
    else:
        eff_pods = []
        pod_source = ""
        warnings.append("ipam.mode=%s: pod CIDRs are not checked" % eff_ipam)

    nets = []
    for cidr in eff_pods:
        try:
            nets.append(netaddr.IPNetwork(normalise_cidr(cidr, pod_source)))
        except ValueError as exc:
            errors.append(str(exc))
    svc_nets = [netaddr.IPNetwork(c) for c in service]
    for net in nets:
        for svc in svc_nets:
            if net.version == svc.version and (net.first <= svc.last and svc.first <= net.last):
                errors.append("pod CIDR %s (%s) overlaps the service CIDR %s (kubeadm serviceSubnet)"
                              % (net.cidr, pod_source, svc.cidr))
        for node in nodes:
            for addr in node.get("internal_ips") or []:
                ip = netaddr.IPAddress(addr)
                if ip.version == net.version and ip in net:
                    errors.append("pod CIDR %s (%s) contains the address %s of node %s"
                                  % (net.cidr, pod_source, addr, node["name"]))
    for svc in svc_nets:
        for node in nodes:
            for addr in node.get("internal_ips") or []:
                ip = netaddr.IPAddress(addr)
                if ip.version == svc.version and ip in svc:
                    errors.append("service CIDR %s contains the address %s of node %s" % (svc.cidr, addr, node["name"]))
    for i, a in enumerate(nets):
        for b in nets[i + 1:]:
            if a.version == b.version and a.first <= b.last and b.first <= a.last:
                errors.append("pod CIDRs %s and %s overlap" % (a.cidr, b.cidr))

    if eff("routingMode", values) == "native":
        for key, family in (("ipv4NativeRoutingCIDR", 4), ("ipv6NativeRoutingCIDR", 6)):
            if family == 6 and not ipv6:
                continue
            cidr = eff(key, values)
            fam_pods = [n for n in nets if n.version == family]
            if not cidr:
                errors.append("routingMode=native needs %s (the CIDR routed without SNAT)" % key)
                continue
            try:
                rnet = netaddr.IPNetwork(normalise_cidr(str(cidr), key))
            except ValueError as exc:
                errors.append(str(exc))
                continue
            if ip_family(str(rnet.ip)) != family:
                errors.append("%s %s is not an IPv%d CIDR" % (key, rnet.cidr, family))
                continue
            for net in fam_pods:
                if net not in rnet:
                    errors.append("%s %s does not contain the pod CIDR %s" % (key, rnet.cidr, net.cidr))
    else:
        proto = eff("tunnelProtocol", values) or "vxlan"
        if proto not in TUNNEL_DEFAULT_PORTS:
            errors.append("tunnelProtocol %r is not vxlan or geneve" % proto)
        elif coexists and flannel_port:
            port_eff = eff("tunnelPort", values) or TUNNEL_DEFAULT_PORTS[proto]
            if proto == "vxlan" and int(port_eff) == int(flannel_port):
                errors.append("tunnelPort %s collides with Flannel's VXLAN port %s while Flannel still runs"
                              % (port_eff, flannel_port))

    if errors:
        raise DeriveError("; ".join(errors))
    effective = {k: eff(k, values) for k in ("k8sServiceHost", "k8sServicePort", "kubeProxyReplacement", "routingMode",
                                             "tunnelProtocol", "tunnelPort", "ipam.mode", "ipv4NativeRoutingCIDR",
                                             "autoDirectNodeRoutes", "bpf.masquerade")}
    return {"values": copy.deepcopy(values), "decisions": decisions, "warnings": warnings, "effective": effective,
            "pod_cidrs": [str(n.cidr) for n in nets]}
