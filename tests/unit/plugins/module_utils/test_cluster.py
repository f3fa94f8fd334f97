# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import copy
import os

import pytest
import yaml

from ansible_collections.kubeshift.cilium.plugins.module_utils._cluster import (
    ClusterFactsError,
    build_cluster_facts,
    l2_decision,
    parse_cluster_info,
    parse_endpoint,
    parse_flannel_net_conf,
    parse_kube_proxy_config,
    parse_kubeadm_config,
    parse_nodes,
    unmanaged_pods,
)

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "cluster")


def load(name):
    with open(os.path.join(FIX, name)) as handle:
        return yaml.safe_load(handle)


def cm(name, namespace, **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}, "data": data}


def kubeadm_with(text):
    return cm("kubeadm-config", "kube-system", ClusterConfiguration=text)


# ---------------------------------------------------------------- kubeadm-config

def test_kubeadm_v1beta3():
    out = parse_kubeadm_config(load("kubeadm-config-v1beta3.yaml"))
    assert out["api_version"] == "kubeadm.k8s.io/v1beta3"
    assert out["kubernetes_version"] == "v1.30.4"
    assert out["pod_subnets"] == ["10.244.0.0/16"]
    assert out["service_subnets"] == ["10.96.0.0/12"]
    assert out["endpoint"] == {"host": "cp.lab.example", "port": 6443, "port_explicit": True, "kind": "hostname"}
    # v1beta3 has no proxy field at all
    assert out["proxy_disabled_supported"] is False
    assert out["proxy_disabled"] is None


def test_kubeadm_v1beta4_has_proxy_disabled():
    out = parse_kubeadm_config(load("kubeadm-config-v1beta4.yaml"))
    assert out["api_version"] == "kubeadm.k8s.io/v1beta4"
    assert out["proxy_disabled_supported"] is True
    assert out["proxy_disabled"] is False
    assert out["endpoint"] is None
    assert out["cluster_name"] == "lab"


def test_kubeadm_dual_stack_subnets():
    text = ("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n"
            "  podSubnet: 10.244.0.0/16,fd00:10:244::/56\n  serviceSubnet: 10.96.0.0/16,fd00:10:96::/112\n"
            "controlPlaneEndpoint: '[fd77::11]:8443'\nproxy:\n  disabled: true\n")
    out = parse_kubeadm_config(kubeadm_with(text))
    assert out["pod_subnets"] == ["10.244.0.0/16", "fd00:10:244::/56"]
    assert out["service_subnets"] == ["10.96.0.0/16", "fd00:10:96::/112"]
    assert out["endpoint"]["host"] == "fd77::11"
    assert out["endpoint"]["port"] == 8443
    assert out["endpoint"]["kind"] == "ipv6"
    assert out["proxy_disabled"] is True


@pytest.mark.parametrize("text, match", [
    ("apiVersion: kubeadm.k8s.io/v1beta9\nkind: ClusterConfiguration\n", "unsupported kubeadm API version"),
    ("apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\n", "expected ClusterConfiguration"),
    ("apiVersion: [unclosed\n", "not valid YAML"),
    ("- a\n- b\n", "not a YAML mapping"),
    ("apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: 10.244.0.1/16\n",
     "host bits set"),
    ("apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nnetworking:\n  serviceSubnet: banana\n",
     "not a CIDR"),
])
def test_kubeadm_bad(text, match):
    with pytest.raises(ClusterFactsError, match=match) as err:
        parse_kubeadm_config(kubeadm_with(text))
    assert "kube-system/kubeadm-config" in str(err.value)


def test_kubeadm_missing_key():
    with pytest.raises(ClusterFactsError, match="ConfigMap kube-system/kubeadm-config has no key 'ClusterConfiguration'"):
        parse_kubeadm_config(cm("kubeadm-config", "kube-system", other="x"))


# ---------------------------------------------------------------- endpoints

@pytest.mark.parametrize("text, host, port, kind, explicit", [
    ("cp.lab.example:6443", "cp.lab.example", 6443, "hostname", True),
    ("cp.lab.example", "cp.lab.example", 6443, "hostname", False),
    ("10.77.0.11:7443", "10.77.0.11", 7443, "ipv4", True),
    ("https://10.77.0.11:6443", "10.77.0.11", 6443, "ipv4", True),
    ("https://[fd77::11]:6443/", "fd77::11", 6443, "ipv6", True),
    ("[fd77::11]", "fd77::11", 6443, "ipv6", False),
    ("fd77::11", "fd77::11", 6443, "ipv6", False),
    ("https://api.k8s.example.com", "api.k8s.example.com", 6443, "hostname", False),
])
def test_parse_endpoint(text, host, port, kind, explicit):
    out = parse_endpoint(text, "test")
    assert (out["host"], out["port"], out["kind"], out["port_explicit"]) == (host, port, kind, explicit)


@pytest.mark.parametrize("text, match", [
    ("", "empty API endpoint"),
    ("cp:0", "invalid port"),
    ("cp:99999", "invalid port"),
    ("cp:abc", "invalid port"),
    ("[fd77::11", "unbalanced"),
    ("bad_host!:6443", "neither an IP address nor a valid DNS name"),
])
def test_parse_endpoint_bad(text, match):
    with pytest.raises(ClusterFactsError, match=match):
        parse_endpoint(text, "where")


def test_cluster_info():
    out = parse_cluster_info(load("cluster-info.yaml"))
    assert out["host"] == "10.77.0.11" and out["port"] == 6443 and out["kind"] == "ipv4"


def test_cluster_info_without_server():
    bad = cm("cluster-info", "kube-public", kubeconfig="apiVersion: v1\nclusters: []\n")
    with pytest.raises(ClusterFactsError, match="kube-public/cluster-info.*no clusters"):
        parse_cluster_info(bad)


# ---------------------------------------------------------------- kube-proxy

def test_kube_proxy_default_mode_is_iptables():
    out = parse_kube_proxy_config(load("kube-proxy-cm.yaml"))
    assert out["mode"] == "" and out["effective_mode"] == "iptables"
    assert out["cluster_cidrs"] == ["10.244.0.0/16"]


@pytest.mark.parametrize("mode", ["ipvs", "nftables", "iptables"])
def test_kube_proxy_modes(mode):
    obj = load("kube-proxy-cm.yaml")
    obj["data"]["config.conf"] = obj["data"]["config.conf"].replace('mode: ""', "mode: %s" % mode)
    assert parse_kube_proxy_config(obj)["effective_mode"] == mode


def test_kube_proxy_bad_mode():
    obj = load("kube-proxy-cm.yaml")
    obj["data"]["config.conf"] = obj["data"]["config.conf"].replace('mode: ""', "mode: userspace-ish")
    with pytest.raises(ClusterFactsError, match="kube-system/kube-proxy key config.conf: unknown kube-proxy mode"):
        parse_kube_proxy_config(obj)


# ---------------------------------------------------------------- flannel

def test_flannel_default_vxlan():
    out = parse_flannel_net_conf(load("flannel-cm.yaml")["data"]["net-conf.json"])
    assert out["network"] == "10.244.0.0/16"
    assert out["backend"] == {"type": "vxlan", "port": 8472, "vni": 1, "direct_routing": False}
    assert out["subnet_len"] == 24


def test_flannel_custom_backend():
    out = parse_flannel_net_conf('{"Network": "10.50.0.0/16", "SubnetLen": 26, "EnableIPv6": true, '
                                 '"IPv6Network": "fd50::/56", "Backend": {"Type": "VXLAN", "VNI": 4096, "Port": 4789}}')
    assert out["backend"] == {"type": "vxlan", "port": 4789, "vni": 4096, "direct_routing": False}
    assert out["ipv6_network"] == "fd50::/56" and out["enable_ipv6"] is True
    assert out["subnet_len"] == 26


def test_flannel_host_gw_has_no_port():
    out = parse_flannel_net_conf('{"Network": "10.244.0.0/16", "Backend": {"Type": "host-gw"}}')
    assert out["backend"]["port"] is None and out["backend"]["vni"] is None


@pytest.mark.parametrize("text, match", [
    ('{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"', "not valid JSON"),
    ("", "is empty"),
    ('["a"]', "not a JSON object"),
    ('{"Backend": {"Type": "vxlan"}}', "has no 'Network'"),
    ('{"Network": "10.244.0.0/33"}', "not a valid CIDR"),
    ('{"Network": "fd00::/56"}', "not an IPv4 CIDR"),
    ('{"Network": "10.244.0.0/16", "Backend": {"Type": "carrier-pigeon"}}', "unknown Flannel backend"),
    ('{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan", "Port": "eighty"}}', "must be integers"),
    ('{"Network": "10.244.0.0/16", "SubnetLen": 40}', "SubnetLen"),
])
def test_flannel_malformed(text, match):
    with pytest.raises(ClusterFactsError, match=match) as err:
        parse_flannel_net_conf(text, "ConfigMap kube-flannel/kube-flannel-cfg key net-conf.json")
    assert "kube-flannel/kube-flannel-cfg" in str(err.value)


# ---------------------------------------------------------------- nodes and L2

def test_nodes():
    nodes = parse_nodes(load("nodes.yaml"))
    assert [n["name"] for n in nodes] == ["n1", "n2", "n3"]
    assert nodes[0]["control_plane"] is True and nodes[1]["control_plane"] is False
    assert [n["ready"] for n in nodes] == [True, True, False]
    assert nodes[2]["pod_cidrs"] == ["10.244.2.0/24"]
    assert nodes[1]["internal_ipv4"] == "10.77.0.12"
    assert nodes[0]["kubelet_version"] == "v1.32.3"


def test_node_bad_address():
    raw = load("nodes.yaml")
    raw[1]["status"]["addresses"][0]["address"] = "10.77.0.300"
    with pytest.raises(ClusterFactsError, match="Node n2: InternalIP '10.77.0.300'"):
        parse_nodes(raw)


def test_l2_with_node_cidr():
    nodes = parse_nodes(load("nodes.yaml"))
    assert l2_decision(nodes, "10.77.0.0/24")["shared"] is True
    out = l2_decision(nodes, "10.77.0.12/30")
    assert out["shared"] is False and "n1 (10.77.0.11)" in out["reason"] and "n2" not in out["reason"]


def test_l2_unknown_without_prefix():
    out = l2_decision(parse_nodes(load("nodes.yaml")))
    assert out["shared"] is False and out["certain"] is False


def test_l2_single_node():
    out = l2_decision(parse_nodes(load("nodes.yaml")[:1]))
    assert out["shared"] is True


# ---------------------------------------------------------------- aggregate

def facts(**over):
    args = dict(kubeadm_config=load("kubeadm-config-v1beta3.yaml"), nodes=load("nodes.yaml"),
                daemonsets=[load("kube-proxy-ds.yaml"), load("flannel-ds.yaml")],
                configmaps=[load("kube-proxy-cm.yaml"), load("flannel-cm.yaml")],
                cluster_info=load("cluster-info.yaml"))
    args.update(over)
    return build_cluster_facts(**args)


def test_build_facts_manifest_install():
    out = facts()
    assert out["schema"] == 1
    assert out["api_endpoint"]["source"] == "kubeadm-config controlPlaneEndpoint"
    assert out["kube_proxy"]["present"] and out["kube_proxy"]["effective_mode"] == "iptables"
    assert out["kube_proxy"]["daemonset"]["image"] == "registry.k8s.io/kube-proxy:v1.32.3"
    assert out["flannel"]["daemonset"]["namespace"] == "kube-flannel"
    assert out["flannel"]["daemonset"]["managed_by"] == "manifest"
    assert out["flannel"]["configmap"] == {"namespace": "kube-flannel", "name": "kube-flannel-cfg"}
    assert out["flannel"]["net_conf"]["backend"]["port"] == 8472
    assert out["cilium"]["present"] is False
    assert out["warnings"] == ["node(s) not Ready: n3"]


def test_build_facts_helm_flannel_and_cluster_info_endpoint():
    out = facts(kubeadm_config=load("kubeadm-config-v1beta4.yaml"), daemonsets=[load("flannel-helm-ds.yaml")])
    assert out["flannel"]["daemonset"]["managed_by"] == "helm"
    assert out["flannel"]["daemonset"]["helm_release"] == "flannel"
    assert out["flannel"]["daemonset"]["helm_namespace"] == "kube-flannel"
    assert out["kube_proxy"]["present"] is False and out["kube_proxy"]["config_present"] is True
    assert out["api_endpoint"]["host"] == "10.77.0.11"
    assert out["api_endpoint"]["source"] == "kube-public/cluster-info"


def test_build_facts_kubeconfig_fallback_and_loopback_warning():
    out = facts(kubeadm_config=load("kubeadm-config-v1beta4.yaml"), cluster_info=None,
                kubeconfig_server="https://127.0.0.1:6443")
    assert out["api_endpoint"]["source"] == "kubeconfig server"
    assert any("loopback" in w for w in out["warnings"])


def test_build_facts_no_kubeadm_config():
    with pytest.raises(ClusterFactsError, match="kube-system/kubeadm-config not found"):
        facts(kubeadm_config=None)
    out = facts(kubeadm_config=None, require_kubeadm=False)
    assert out["kubeadm"]["found"] is False


def test_build_facts_malformed_net_conf_names_configmap():
    bad = load("flannel-cm.yaml")
    bad["data"]["net-conf.json"] = '{"Network": "10.244.0.0/16",'
    with pytest.raises(ClusterFactsError, match=r"ConfigMap kube-flannel/kube-flannel-cfg key net-conf.json is not valid JSON"):
        facts(configmaps=[load("kube-proxy-cm.yaml"), bad])


def test_build_facts_inconsistencies_are_warnings():
    other = load("flannel-cm.yaml")
    other["data"]["net-conf.json"] = '{"Network": "10.50.0.0/16", "Backend": {"Type": "vxlan"}}'
    out = facts(configmaps=[load("kube-proxy-cm.yaml"), other])
    assert "Flannel Network 10.50.0.0/16 differs from kubeadm podSubnet 10.244.0.0/16" in out["warnings"]


def test_build_facts_two_flannel_daemonsets():
    second = copy.deepcopy(load("flannel-ds.yaml"))
    second["metadata"]["name"] = "kube-flannel-ds-arm64"
    with pytest.raises(ClusterFactsError, match="more than one Flannel DaemonSet"):
        facts(daemonsets=[load("flannel-ds.yaml"), second])


def test_build_facts_detects_cilium():
    ds = {"kind": "DaemonSet", "metadata": {"name": "cilium", "namespace": "kube-system",
                                            "labels": {"k8s-app": "cilium", "app.kubernetes.io/managed-by": "Helm"},
                                            "annotations": {"meta.helm.sh/release-name": "cilium"}},
          "spec": {"template": {"spec": {"containers": [{"name": "cilium-agent",
                                                         "image": "quay.io/cilium/cilium:v1.18.12"}]}}}}
    out = facts(daemonsets=[ds])
    assert out["cilium"]["present"] is True
    assert out["cilium"]["daemonset"]["helm_release"] == "cilium"
    assert out["flannel"]["present"] is False
    assert any("no Flannel DaemonSet" in w for w in out["warnings"])


# ---------------------------------------------------------------- pods to restart after Cilium is up

def pod(name, node, created, ns="default", host_network=False, phase="Running", owner=True, ready_since=None):
    obj = {"metadata": {"name": name, "namespace": ns, "creationTimestamp": created},
           "spec": {"nodeName": node, "hostNetwork": host_network},
           "status": {"phase": phase, "podIP": "10.244.0.9"}}
    if owner:
        obj["metadata"]["ownerReferences"] = [{"kind": "ReplicaSet", "name": name + "-rs", "controller": True}]
    if ready_since:
        obj["status"]["conditions"] = [{"type": "Ready", "status": "True", "lastTransitionTime": ready_since}]
    return obj


def test_unmanaged_pods():
    agents = [pod("cilium-a", "n1", "2026-11-23T10:00:00Z", "kube-system", True, ready_since="2026-11-23T10:00:30Z"),
              pod("cilium-b", "n2", "2026-11-23T10:00:00Z", "kube-system", True, ready_since="2026-11-23T10:01:00.123456Z"),
              pod("cilium-c", "n3", "2026-11-23T10:00:00Z", "kube-system", True)]  # not Ready
    pods = [
        pod("old-web", "n1", "2026-11-23T09:00:00Z"),                      # before the agent: restart
        pod("new-web", "n1", "2026-11-23T10:05:00Z"),                      # after: managed
        pod("cep-web", "n2", "2026-11-23T09:00:00Z"),                      # has a CiliumEndpoint: managed
        pod("bare", "n2", "2026-11-23T09:00:00Z", owner=False),            # no controller: reported, not deleted
        pod("hostnet", "n1", "2026-11-23T09:00:00Z", host_network=True),   # ignored
        pod("done", "n1", "2026-11-23T09:00:00Z", phase="Succeeded"),      # ignored
        pod("wait", "n3", "2026-11-23T09:00:00Z"),                         # agent not ready on n3
        pod("pending", "n2", "2026-11-23T10:00:59Z", phase="Pending"),     # before agent n2 ready: restart
    ]
    out = unmanaged_pods(pods, agents, [{"metadata": {"namespace": "default", "name": "cep-web"}}])
    assert [p["name"] for p in out["restart"]] == ["old-web", "pending"]
    assert out["restart"][0]["owner"] == "ReplicaSet/old-web-rs"
    assert [p["name"] for p in out["bare"]] == ["bare"]
    assert [p["name"] for p in out["waiting"]] == ["wait"]
    assert out["managed"] == 2
