# -*- coding: utf-8 -*-
# Copyright (c) kubeshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parse what a kubeadm cluster really is, from the API objects read with kubernetes.core.

Private module, no API guarantee. Pure functions: every input is an API object as returned by
``kubernetes.core.k8s_info`` (a dict) or the text stored in one; nothing here talks to a cluster.
Errors are ``ClusterFactsError`` (a ``ValueError``) whose message names the object and the problem.

Facts about kubeadm's configuration API that the parsers rely on:

* ``kube-system/kubeadm-config`` holds the ``ClusterConfiguration`` YAML under the key
  ``ClusterConfiguration`` (apiVersion ``kubeadm.k8s.io/v1beta3`` up to Kubernetes 1.30,
  ``kubeadm.k8s.io/v1beta4`` from 1.31).
* ``proxy.disabled`` (and ``dns.disabled``) exist only in **v1beta4**; v1beta3 has no ``proxy``
  field. ``kubeadm upgrade`` re-creates the kube-proxy addon unless the ``kube-system/kube-proxy``
  ConfigMap is absent (kubernetes/kubernetes#129415: ``proxy.disabled`` alone is not honoured on
  upgrade), so removal must delete the ConfigMap and, on v1beta4, also set ``proxy.disabled``.
* ``controlPlaneEndpoint`` may be empty; the API endpoint is then read from ``kube-public/cluster-info``
  (the kubeconfig kubeadm publishes there), or from the caller's kubeconfig server.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any, Dict, List, Optional

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core on the controller
    yaml = None
    HAS_YAML = False

try:
    import netaddr

    HAS_NETADDR = True
except ImportError:  # pragma: no cover - exercised only where netaddr is missing
    netaddr = None
    HAS_NETADDR = False

SCHEMA = 1
KUBEADM_API_VERSIONS = ("kubeadm.k8s.io/v1beta2", "kubeadm.k8s.io/v1beta3", "kubeadm.k8s.io/v1beta4")
KUBEADM_PROXY_DISABLED_FROM = "kubeadm.k8s.io/v1beta4"
DEFAULT_API_PORT = 6443
KUBE_PROXY_MODES = ("", "iptables", "ipvs", "nftables", "kernelspace")
# Flannel backends and the UDP port each uses when Backend.Port is 0/absent.
FLANNEL_BACKEND_PORTS = {"vxlan": 8472, "udp": 8285, "wireguard": 51820, "host-gw": None, "ipip": None,
                         "ipsec": None, "alivpc": None, "alloc": None, "gce": None, "aws-vpc": None,
                         "tencent-vpc": None}
HELM_MANAGED_LABEL = "app.kubernetes.io/managed-by"
HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"
HELM_NAMESPACE_ANNOTATION = "meta.helm.sh/release-namespace"
CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")


class ClusterFactsError(ValueError):
    """Raised when an API object cannot be understood; the message names the object."""


def require_netaddr() -> None:
    if not HAS_NETADDR:
        raise ClusterFactsError("the Python library 'netaddr' is required on the controller (pip install netaddr)")


def _meta(obj: Dict[str, Any]) -> Dict[str, Any]:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    return meta if isinstance(meta, dict) else {}


def object_ref(obj: Dict[str, Any], kind: str = "") -> str:
    """``Kind namespace/name`` for messages."""
    meta = _meta(obj)
    kind = kind or (obj.get("kind") if isinstance(obj, dict) else "") or "object"
    name = meta.get("name", "?")
    ns = meta.get("namespace")
    return "%s %s/%s" % (kind, ns, name) if ns else "%s %s" % (kind, name)


def _configmap_key(cm: Dict[str, Any], key: str, required: bool = True) -> Optional[str]:
    if not isinstance(cm, dict):
        raise ClusterFactsError("expected a ConfigMap object, got %s" % type(cm).__name__)
    data = cm.get("data") or {}
    if not isinstance(data, dict):
        raise ClusterFactsError("%s: 'data' is not a mapping" % object_ref(cm, "ConfigMap"))
    value = data.get(key)
    if value is None:
        if required:
            raise ClusterFactsError("%s has no key %r" % (object_ref(cm, "ConfigMap"), key))
        return None
    if not isinstance(value, str):
        raise ClusterFactsError("%s key %r is not a string" % (object_ref(cm, "ConfigMap"), key))
    return value


def load_yaml_mapping(text: str, where: str, error: type = ClusterFactsError) -> Dict[str, Any]:
    """Parse YAML text that must be a mapping; problems raise ``error`` naming ``where``."""
    if not HAS_YAML:
        raise error("the Python library 'PyYAML' is required on the controller to read %s" % where)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error("%s is not valid YAML: %s" % (where, str(exc).replace("\n", " ")))
    if not isinstance(doc, dict):
        raise error("%s is not a YAML mapping" % where)
    return doc


def split_cidrs(value: Any, where: str) -> List[str]:
    """Split kubeadm's comma-separated CIDR strings ("10.244.0.0/16,fd00::/56") and validate each."""
    if value in (None, ""):
        return []
    if isinstance(value, (list, tuple)):
        items = [str(v).strip() for v in value]
    elif isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    else:
        raise ClusterFactsError("%s: expected a CIDR string, got %r" % (where, value))
    out = []
    for item in items:
        if not item:
            continue
        out.append(normalise_cidr(item, where))
    return out


def normalise_cidr(text: str, where: str) -> str:
    require_netaddr()
    if "/" not in text:
        raise ClusterFactsError("%s: %r is not a CIDR (missing /prefix)" % (where, text))
    try:
        net = netaddr.IPNetwork(text)
    except (netaddr.AddrFormatError, ValueError, TypeError) as exc:
        raise ClusterFactsError("%s: %r is not a valid CIDR (%s)" % (where, text, exc))
    if net.ip != net.network:
        raise ClusterFactsError("%s: %r has host bits set (network is %s)" % (where, text, net.cidr))
    return str(net.cidr)


def ip_family(addr: str) -> Optional[int]:
    require_netaddr()
    try:
        return netaddr.IPAddress(addr).version
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None


def parse_endpoint(text: str, where: str, default_port: int = DEFAULT_API_PORT) -> Dict[str, Any]:
    """Split ``host[:port]`` / ``[v6]:port`` / ``https://host:port/path`` into host, port and kind."""
    if not isinstance(text, str) or not text.strip():
        raise ClusterFactsError("%s: empty API endpoint" % where)
    raw = text.strip()
    rest = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", raw)
    rest = rest.split("/", 1)[0]
    if "@" in rest:
        rest = rest.rsplit("@", 1)[1]
    port: Optional[int] = None
    if rest.startswith("["):
        end = rest.find("]")
        if end < 0:
            raise ClusterFactsError("%s: unbalanced '[' in endpoint %r" % (where, raw))
        host = rest[1:end]
        tail = rest[end + 1:]
        if tail:
            if not tail.startswith(":"):
                raise ClusterFactsError("%s: unexpected text after ']' in endpoint %r" % (where, raw))
            port_text = tail[1:]
        else:
            port_text = ""
    elif rest.count(":") > 1:
        # A bare IPv6 address without brackets cannot carry a port.
        host, port_text = rest, ""
    elif ":" in rest:
        host, port_text = rest.split(":", 1)
    else:
        host, port_text = rest, ""
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ClusterFactsError("%s: invalid port %r in endpoint %r" % (where, port_text, raw))
        port = int(port_text)
    if not host:
        raise ClusterFactsError("%s: no host in endpoint %r" % (where, raw))
    family = ip_family(host)
    if family == 4:
        kind = "ipv4"
    elif family == 6:
        kind = "ipv6"
    else:
        if not re.match(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$",
                        host):
            raise ClusterFactsError("%s: %r is neither an IP address nor a valid DNS name" % (where, host))
        kind = "hostname"
    return {"host": host, "port": port if port is not None else default_port, "port_explicit": port is not None,
            "kind": kind}


def parse_kubeadm_config(cm: Dict[str, Any]) -> Dict[str, Any]:
    """Read ``ClusterConfiguration`` from the ``kube-system/kubeadm-config`` ConfigMap."""
    where = "%s key ClusterConfiguration" % object_ref(cm, "ConfigMap")
    text = _configmap_key(cm, "ClusterConfiguration")
    doc = load_yaml_mapping(text, where)
    api_version = doc.get("apiVersion")
    if api_version not in KUBEADM_API_VERSIONS:
        raise ClusterFactsError("%s: unsupported kubeadm API version %r (known: %s)"
                                % (where, api_version, ", ".join(KUBEADM_API_VERSIONS)))
    if doc.get("kind") != "ClusterConfiguration":
        raise ClusterFactsError("%s: kind is %r, expected ClusterConfiguration" % (where, doc.get("kind")))
    networking = doc.get("networking") or {}
    if not isinstance(networking, dict):
        raise ClusterFactsError("%s: 'networking' is not a mapping" % where)
    endpoint_text = doc.get("controlPlaneEndpoint") or ""
    endpoint = None
    if endpoint_text:
        endpoint = parse_endpoint(str(endpoint_text), where + " controlPlaneEndpoint")
    supports_proxy_disabled = api_version == KUBEADM_PROXY_DISABLED_FROM
    proxy = doc.get("proxy")
    proxy_disabled = None
    if supports_proxy_disabled:
        proxy_disabled = bool(proxy.get("disabled")) if isinstance(proxy, dict) else False
    return {
        "found": True,
        "api_version": api_version,
        "kubernetes_version": doc.get("kubernetesVersion"),
        "cluster_name": doc.get("clusterName"),
        "control_plane_endpoint": str(endpoint_text) or None,
        "endpoint": endpoint,
        "pod_subnets": split_cidrs(networking.get("podSubnet"), where + " networking.podSubnet"),
        "service_subnets": split_cidrs(networking.get("serviceSubnet"), where + " networking.serviceSubnet"),
        "dns_domain": networking.get("dnsDomain") or "cluster.local",
        "proxy_disabled_supported": supports_proxy_disabled,
        "proxy_disabled": proxy_disabled,
    }


def parse_cluster_info(cm: Dict[str, Any]) -> Dict[str, Any]:
    """API endpoint from ``kube-public/cluster-info`` (key ``kubeconfig``: clusters[0].cluster.server)."""
    where = "%s key kubeconfig" % object_ref(cm, "ConfigMap")
    doc = load_yaml_mapping(_configmap_key(cm, "kubeconfig"), where)
    clusters = doc.get("clusters") or []
    if not isinstance(clusters, list) or not clusters or not isinstance(clusters[0], dict):
        raise ClusterFactsError("%s: no clusters[0] entry" % where)
    server = (clusters[0].get("cluster") or {}).get("server")
    if not server:
        raise ClusterFactsError("%s: clusters[0].cluster.server is empty" % where)
    return parse_endpoint(server, where + " server")


def parse_kube_proxy_config(cm: Dict[str, Any]) -> Dict[str, Any]:
    """Mode and clusterCIDR from the ``kube-system/kube-proxy`` ConfigMap (``config.conf``)."""
    where = "%s key config.conf" % object_ref(cm, "ConfigMap")
    doc = load_yaml_mapping(_configmap_key(cm, "config.conf"), where)
    kind = doc.get("kind")
    if kind not in (None, "KubeProxyConfiguration"):
        raise ClusterFactsError("%s: kind is %r, expected KubeProxyConfiguration" % (where, kind))
    mode = doc.get("mode") or ""
    if mode not in KUBE_PROXY_MODES:
        raise ClusterFactsError("%s: unknown kube-proxy mode %r" % (where, mode))
    return {
        "config_present": True,
        "api_version": doc.get("apiVersion"),
        "mode": mode,
        # An empty mode means the platform default, iptables on Linux.
        "effective_mode": mode or "iptables",
        "cluster_cidrs": split_cidrs(doc.get("clusterCIDR"), where + " clusterCIDR"),
    }


def parse_flannel_net_conf(text: str, where: str = "net-conf.json") -> Dict[str, Any]:
    """Parse Flannel's ``net-conf.json`` (Network, IPv6Network, SubnetLen, Backend)."""
    if not isinstance(text, str) or not text.strip():
        raise ClusterFactsError("%s is empty" % where)
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ClusterFactsError("%s is not valid JSON: %s" % (where, exc))
    if not isinstance(doc, dict):
        raise ClusterFactsError("%s is not a JSON object" % where)
    enable_ipv4 = doc.get("EnableIPv4", True)
    enable_ipv6 = bool(doc.get("EnableIPv6", False))
    network = doc.get("Network")
    ipv6_network = doc.get("IPv6Network")
    if enable_ipv4 is not False and not network:
        raise ClusterFactsError("%s has no 'Network' (required unless EnableIPv4 is false)" % where)
    networks = split_cidrs(network, where + " Network") if network else []
    ipv6_networks = split_cidrs(ipv6_network, where + " IPv6Network") if ipv6_network else []
    for net in networks:
        if ip_family(net.split("/")[0]) != 4:
            raise ClusterFactsError("%s Network %r is not an IPv4 CIDR" % (where, net))
    backend = doc.get("Backend") or {"Type": "udp"}
    if not isinstance(backend, dict):
        raise ClusterFactsError("%s 'Backend' is not an object" % where)
    btype = str(backend.get("Type") or "udp").lower()
    if btype not in FLANNEL_BACKEND_PORTS:
        raise ClusterFactsError("%s: unknown Flannel backend type %r" % (where, backend.get("Type")))
    port = backend.get("Port") or 0
    vni = backend.get("VNI")
    try:
        port = int(port)
        vni = int(vni) if vni not in (None, "") else (1 if btype == "vxlan" else None)
    except (TypeError, ValueError):
        raise ClusterFactsError("%s: Backend Port/VNI must be integers, got Port=%r VNI=%r"
                                % (where, backend.get("Port"), backend.get("VNI")))
    if port == 0:
        port = FLANNEL_BACKEND_PORTS[btype]
    subnet_len = doc.get("SubnetLen", 24)
    if not isinstance(subnet_len, int) or not 0 < subnet_len <= 32:
        raise ClusterFactsError("%s: SubnetLen must be an integer 1..32, got %r" % (where, subnet_len))
    return {
        "network": networks[0] if networks else None,
        "ipv6_network": ipv6_networks[0] if ipv6_networks else None,
        "enable_ipv4": enable_ipv4 is not False,
        "enable_ipv6": enable_ipv6,
        "subnet_len": subnet_len,
        "backend": {"type": btype, "port": port, "vni": vni,
                    "direct_routing": bool(backend.get("DirectRouting", False))},
    }


def describe_workload(obj: Dict[str, Any]) -> Dict[str, Any]:
    """Namespace, name, images and how a DaemonSet/Deployment was installed (Helm release or manifest)."""
    meta = _meta(obj)
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    spec = (((obj.get("spec") or {}).get("template") or {}).get("spec") or {})
    images = [c.get("image") for c in (spec.get("containers") or []) if isinstance(c, dict) and c.get("image")]
    release = annotations.get(HELM_RELEASE_ANNOTATION)
    helm = labels.get(HELM_MANAGED_LABEL) == "Helm" or bool(release)
    status = obj.get("status") or {}
    return {
        "kind": obj.get("kind") or "DaemonSet",
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "images": images,
        "image": images[0] if images else None,
        "managed_by": "helm" if helm else "manifest",
        "helm_release": release,
        "helm_namespace": annotations.get(HELM_NAMESPACE_ANNOTATION) or (meta.get("namespace") if helm else None),
        "labels": labels,
        "desired": status.get("desiredNumberScheduled", status.get("replicas")),
        "ready": status.get("numberReady", status.get("readyReplicas")),
    }


def _is_flannel(obj: Dict[str, Any]) -> bool:
    meta = _meta(obj)
    labels = meta.get("labels") or {}
    name = str(meta.get("name") or "")
    if labels.get("app") == "flannel" or labels.get("k8s-app") == "flannel":
        return True
    if "flannel" in name:
        return True
    spec = (((obj.get("spec") or {}).get("template") or {}).get("spec") or {})
    return any("flannel" in str(c.get("image", "")) for c in spec.get("containers") or [] if isinstance(c, dict))


def _is_kube_proxy(obj: Dict[str, Any]) -> bool:
    meta = _meta(obj)
    labels = meta.get("labels") or {}
    return labels.get("k8s-app") == "kube-proxy" or meta.get("name") == "kube-proxy"


def _is_cilium_agent(obj: Dict[str, Any]) -> bool:
    meta = _meta(obj)
    labels = meta.get("labels") or {}
    return labels.get("k8s-app") == "cilium" or meta.get("name") == "cilium"


def node_ready(node: Dict[str, Any]) -> bool:
    for cond in ((node.get("status") or {}).get("conditions") or []):
        if isinstance(cond, dict) and cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def parse_nodes(nodes: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Name, InternalIPs, podCIDRs, kubelet version, readiness and role of each Node object."""
    if not isinstance(nodes, list):
        raise ClusterFactsError("expected a list of Node objects, got %s" % type(nodes).__name__)
    out = []
    for node in nodes:
        if not isinstance(node, dict):
            raise ClusterFactsError("expected a Node object, got %s" % type(node).__name__)
        meta = _meta(node)
        name = meta.get("name") or "?"
        status = node.get("status") or {}
        spec = node.get("spec") or {}
        internal = []
        for addr in status.get("addresses") or []:
            if isinstance(addr, dict) and addr.get("type") == "InternalIP" and addr.get("address"):
                if ip_family(addr["address"]) is None:
                    raise ClusterFactsError("Node %s: InternalIP %r is not an IP address" % (name, addr["address"]))
                internal.append(addr["address"])
        pod_cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
        labels = meta.get("labels") or {}
        out.append({
            "name": name,
            "internal_ips": internal,
            "internal_ipv4": next((a for a in internal if ip_family(a) == 4), None),
            "internal_ipv6": next((a for a in internal if ip_family(a) == 6), None),
            "pod_cidrs": split_cidrs(list(pod_cidrs), "Node %s spec.podCIDRs" % name),
            "kubelet_version": (status.get("nodeInfo") or {}).get("kubeletVersion"),
            "ready": node_ready(node),
            "control_plane": any(lbl in labels for lbl in CONTROL_PLANE_LABELS),
            "unschedulable": bool(spec.get("unschedulable")),
        })
    return out


def l2_decision(nodes: List[Dict[str, Any]], node_cidr: Optional[str] = None) -> Dict[str, Any]:
    """Decide whether all nodes share one L2 segment (needed for ``autoDirectNodeRoutes``).

    Node objects carry addresses but no prefix lengths, so without ``node_cidr`` (the operator's
    statement of the node subnet) the answer is only certain for a single node.
    """
    require_netaddr()
    ips = [n.get("internal_ipv4") for n in nodes]
    missing = [n["name"] for n in nodes if not n.get("internal_ipv4")]
    if missing:
        return {"shared": False, "certain": True, "node_cidr": node_cidr,
                "reason": "no IPv4 InternalIP on node(s) %s" % ", ".join(missing)}
    if not nodes:
        return {"shared": False, "certain": False, "node_cidr": node_cidr, "reason": "no nodes"}
    if node_cidr:
        net = netaddr.IPNetwork(normalise_cidr(node_cidr, "node CIDR"))
        outside = [n["name"] + " (" + n["internal_ipv4"] + ")" for n in nodes
                   if netaddr.IPAddress(n["internal_ipv4"]) not in net]
        if outside:
            return {"shared": False, "certain": True, "node_cidr": str(net.cidr),
                    "reason": "node(s) %s outside the node subnet %s" % (", ".join(outside), net.cidr)}
        return {"shared": True, "certain": True, "node_cidr": str(net.cidr),
                "reason": "all %d node InternalIPs are in %s" % (len(nodes), net.cidr)}
    if len(set(ips)) == 1:
        return {"shared": True, "certain": True, "node_cidr": None, "reason": "single node"}
    return {"shared": False, "certain": False, "node_cidr": None,
            "reason": "node subnet unknown (set the node CIDR to allow native routing)"}


def _pick(items: List[Dict[str, Any]], predicate, what: str) -> Optional[Dict[str, Any]]:
    found = [i for i in items or [] if isinstance(i, dict) and predicate(i)]
    if len(found) > 1:
        refs = ", ".join(object_ref(i, "DaemonSet") for i in found)
        raise ClusterFactsError("more than one %s found: %s" % (what, refs))
    return found[0] if found else None


def build_cluster_facts(kubeadm_config: Optional[Dict[str, Any]],
                        nodes: List[Dict[str, Any]],
                        daemonsets: Optional[List[Dict[str, Any]]] = None,
                        configmaps: Optional[List[Dict[str, Any]]] = None,
                        cluster_info: Optional[Dict[str, Any]] = None,
                        kubeconfig_server: Optional[str] = None,
                        node_cidr: Optional[str] = None,
                        require_kubeadm: bool = True) -> Dict[str, Any]:
    """Assemble the ``cilium_cluster_facts`` structure from raw API objects.

    ``daemonsets`` are all DaemonSets of the cluster; ``configmaps`` the candidate ConfigMaps
    (kube-proxy's and Flannel's, any namespace). ``kubeconfig_server`` is the controller's own server URL.
    """
    warnings: List[str] = []
    if not kubeadm_config:
        if require_kubeadm:
            raise ClusterFactsError("ConfigMap kube-system/kubeadm-config not found: this does not look like a "
                                    "kubeadm cluster (the values cannot be derived without its podSubnet/serviceSubnet)")
        kubeadm = {"found": False, "api_version": None, "pod_subnets": [], "service_subnets": [],
                   "endpoint": None, "control_plane_endpoint": None, "proxy_disabled_supported": False,
                   "proxy_disabled": None, "kubernetes_version": None, "cluster_name": None,
                   "dns_domain": "cluster.local"}
    else:
        kubeadm = parse_kubeadm_config(kubeadm_config)

    # API endpoint: controlPlaneEndpoint > kube-public/cluster-info > the controller's kubeconfig.
    endpoint = None
    if kubeadm.get("endpoint"):
        endpoint = dict(kubeadm["endpoint"], source="kubeadm-config controlPlaneEndpoint")
    elif cluster_info:
        endpoint = dict(parse_cluster_info(cluster_info), source="kube-public/cluster-info")
    elif kubeconfig_server:
        endpoint = dict(parse_endpoint(kubeconfig_server, "kubeconfig server"), source="kubeconfig server")
    if endpoint and endpoint["kind"] != "hostname" and endpoint["host"] in ("127.0.0.1", "::1", "localhost"):
        warnings.append("API endpoint %s (from %s) is a loopback address: agents on other nodes cannot reach it"
                        % (endpoint["host"], endpoint["source"]))

    node_list = parse_nodes(nodes)
    cms = [c for c in configmaps or [] if isinstance(c, dict)]
    dss = [d for d in daemonsets or [] if isinstance(d, dict)]

    # kube-proxy
    kp_ds = _pick(dss, _is_kube_proxy, "kube-proxy DaemonSet")
    kp_cm = _pick(cms, lambda c: _meta(c).get("name") == "kube-proxy"
                  and _meta(c).get("namespace") == "kube-system", "kube-proxy ConfigMap")
    kube_proxy: Dict[str, Any] = {"present": kp_ds is not None, "config_present": kp_cm is not None,
                                  "daemonset": describe_workload(kp_ds) if kp_ds else None,
                                  "configmap": {"namespace": "kube-system", "name": "kube-proxy"} if kp_cm else None,
                                  "mode": None, "effective_mode": None, "cluster_cidrs": []}
    if kp_cm:
        kube_proxy.update(parse_kube_proxy_config(kp_cm))

    # Flannel
    fl_ds = _pick(dss, _is_flannel, "Flannel DaemonSet")
    flannel: Dict[str, Any] = {"present": fl_ds is not None, "daemonset": describe_workload(fl_ds) if fl_ds else None,
                               "configmap": None, "net_conf": None}
    fl_ns = _meta(fl_ds).get("namespace") if fl_ds else None
    fl_cm = None
    for cm in cms:
        data = cm.get("data") or {}
        if isinstance(data, dict) and "net-conf.json" in data and (fl_ns is None or _meta(cm).get("namespace") == fl_ns):
            if fl_cm is not None:
                raise ClusterFactsError("more than one Flannel ConfigMap with net-conf.json: %s, %s"
                                        % (object_ref(fl_cm, "ConfigMap"), object_ref(cm, "ConfigMap")))
            fl_cm = cm
    if fl_cm:
        flannel["configmap"] = {"namespace": _meta(fl_cm).get("namespace"), "name": _meta(fl_cm).get("name")}
        flannel["net_conf"] = parse_flannel_net_conf(
            _configmap_key(fl_cm, "net-conf.json"), "%s key net-conf.json" % object_ref(fl_cm, "ConfigMap"))
        if not fl_ds:
            warnings.append("%s exists but no Flannel DaemonSet runs" % object_ref(fl_cm, "ConfigMap"))
    elif fl_ds:
        warnings.append("Flannel DaemonSet %s/%s found but no ConfigMap with net-conf.json in its namespace"
                        % (fl_ns, _meta(fl_ds).get("name")))

    # Cilium already there?
    ci_ds = _pick(dss, _is_cilium_agent, "Cilium agent DaemonSet")
    cilium = {"present": ci_ds is not None, "daemonset": describe_workload(ci_ds) if ci_ds else None}

    # Consistency warnings between the sources.
    pod4 = [c for c in kubeadm["pod_subnets"] if ":" not in c]
    if flannel.get("net_conf") and flannel["net_conf"].get("network") and pod4 \
            and flannel["net_conf"]["network"] != pod4[0]:
        warnings.append("Flannel Network %s differs from kubeadm podSubnet %s"
                        % (flannel["net_conf"]["network"], pod4[0]))
    if kube_proxy.get("cluster_cidrs") and kubeadm["pod_subnets"] \
            and sorted(kube_proxy["cluster_cidrs"]) != sorted(kubeadm["pod_subnets"]):
        warnings.append("kube-proxy clusterCIDR %s differs from kubeadm podSubnet %s"
                        % (",".join(kube_proxy["cluster_cidrs"]), ",".join(kubeadm["pod_subnets"])))
    not_ready = [n["name"] for n in node_list if not n["ready"]]
    if not_ready:
        warnings.append("node(s) not Ready: %s" % ", ".join(not_ready))

    return {
        "schema": SCHEMA,
        "kubeadm": kubeadm,
        "api_endpoint": endpoint,
        "kube_proxy": kube_proxy,
        "flannel": flannel,
        "cilium": cilium,
        "nodes": node_list,
        "l2": l2_decision(node_list, node_cidr) if node_list else
        {"shared": False, "certain": False, "node_cidr": node_cidr, "reason": "no nodes"},
        "warnings": warnings,
    }


def _timestamp(value: Any) -> Optional[datetime.datetime]:
    if not value:
        return None
    text = str(value).strip().replace("Z", "+00:00")
    text = re.sub(r"\.\d+", "", text)
    try:
        stamp = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None
    return stamp


def _ready_since(pod: Dict[str, Any]) -> Optional[datetime.datetime]:
    for cond in ((pod.get("status") or {}).get("conditions") or []):
        if isinstance(cond, dict) and cond.get("type") == "Ready" and cond.get("status") == "True":
            return _timestamp(cond.get("lastTransitionTime"))
    return None


def unmanaged_pods(pods: List[Dict[str, Any]], agent_pods: List[Dict[str, Any]],
                   endpoints: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
    """Pods still attached to the previous CNI: to restart once Cilium runs.

    A pod counts as managed by Cilium when a CiliumEndpoint of the same namespace/name exists, or when it was
    created after the Cilium agent on its node became Ready (its network was then set up by Cilium). Host-network,
    finished, terminating and unscheduled pods are ignored. Returns ``restart`` (pods with a controller, safe to
    delete), ``bare`` (no controller: deleting them would lose them), ``waiting`` (the agent on their node is not
    Ready yet) and the count of ``managed`` pods.
    """
    ready_at: Dict[str, Optional[datetime.datetime]] = {}
    for agent in agent_pods or []:
        node = (agent.get("spec") or {}).get("nodeName")
        if node:
            ready_at[node] = _ready_since(agent)
    ceps = set()
    for cep in endpoints or []:
        meta = _meta(cep)
        ceps.add((meta.get("namespace"), meta.get("name")))
    out: Dict[str, Any] = {"restart": [], "bare": [], "waiting": [], "managed": 0}
    for pod in pods or []:
        meta = _meta(pod)
        spec = pod.get("spec") or {}
        status = pod.get("status") or {}
        if spec.get("hostNetwork") or meta.get("deletionTimestamp"):
            continue
        if status.get("phase") not in ("Running", "Pending"):
            continue
        node = spec.get("nodeName")
        if not node:
            continue
        ns, name = meta.get("namespace"), meta.get("name")
        created = _timestamp(meta.get("creationTimestamp"))
        since = ready_at.get(node)
        if (ns, name) in ceps or (since is not None and created is not None and created >= since):
            out["managed"] += 1
            continue
        owners = [o for o in meta.get("ownerReferences") or [] if isinstance(o, dict) and o.get("controller")]
        entry = {"namespace": ns, "name": name, "node": node, "pod_ip": status.get("podIP"),
                 "owner": ("%s/%s" % (owners[0].get("kind"), owners[0].get("name"))) if owners else None}
        if since is None:
            out["waiting"].append(entry)
        elif owners:
            out["restart"].append(entry)
        else:
            out["bare"].append(entry)
    return out
