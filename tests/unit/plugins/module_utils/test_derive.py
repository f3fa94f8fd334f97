# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.kubeshift.cilium.plugins.module_utils._cluster import build_cluster_facts
from ansible_collections.kubeshift.cilium.plugins.module_utils._derive import DeriveError, derive_values
from ansible_collections.kubeshift.cilium.plugins.module_utils._values import deep_merge

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "cluster")


def load(name):
    with open(os.path.join(FIX, name)) as handle:
        return yaml.safe_load(handle)


def make_facts(kubeadm="kubeadm-config-v1beta3.yaml", nodes=None, flannel=True, node_cidr=None, net_conf=None,
               cluster_info=True, kubeconfig_server=None):
    cms = [load("kube-proxy-cm.yaml")]
    dss = [load("kube-proxy-ds.yaml")]
    if flannel:
        fcm = load("flannel-cm.yaml")
        if net_conf is not None:
            fcm["data"]["net-conf.json"] = net_conf
        cms.append(fcm)
        dss.append(load("flannel-ds.yaml"))
    kcm = load(kubeadm) if isinstance(kubeadm, str) else kubeadm
    return build_cluster_facts(kcm, nodes if nodes is not None else load("nodes.yaml"), dss, cms,
                               load("cluster-info.yaml") if cluster_info else None, kubeconfig_server, node_cidr)


def kubeadm_cm(pod="10.244.0.0/16", svc="10.96.0.0/12", endpoint="cp.lab.example:6443"):
    text = ("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncontrolPlaneEndpoint: '%s'\n"
            "networking:\n  podSubnet: %s\n  serviceSubnet: %s\n" % (endpoint, pod, svc))
    return {"kind": "ConfigMap", "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
            "data": {"ClusterConfiguration": text}}


def test_defaults_and_endpoint():
    out = derive_values(make_facts())
    v = out["values"]
    assert v["kubeProxyReplacement"] is True
    assert v["k8sServiceHost"] == "cp.lab.example" and v["k8sServicePort"] == 6443
    assert v["bpf"]["masquerade"] is True
    assert v["cni"]["exclusive"] is True
    assert v["operator"]["replicas"] == 2
    assert any("controlPlaneEndpoint" in d for d in out["decisions"])


def test_endpoint_ipv6_and_ipv4_sources():
    out = derive_values(make_facts(kubeadm=kubeadm_cm(endpoint="[fd77::11]:7443")))
    assert out["values"]["k8sServiceHost"] == "fd77::11" and out["values"]["k8sServicePort"] == 7443
    facts = make_facts(kubeadm="kubeadm-config-v1beta4.yaml")
    assert derive_values(facts)["values"]["k8sServiceHost"] == "10.77.0.11"


def test_ipam_kubernetes_when_every_node_has_podcidr():
    out = derive_values(make_facts())
    assert out["values"]["ipam"] == {"mode": "kubernetes"}
    assert out["pod_cidrs"] == ["10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"]


def test_ipam_cluster_pool_with_flannel_network_when_podcidr_missing():
    nodes = load("nodes.yaml")
    for node in nodes:
        node["spec"].pop("podCIDR")
        node["spec"].pop("podCIDRs")
    out = derive_values(make_facts(nodes=nodes, net_conf='{"Network": "10.244.0.0/16", "SubnetLen": 25, '
                                                         '"Backend": {"Type": "vxlan"}}'))
    ipam = out["values"]["ipam"]
    assert ipam["mode"] == "cluster-pool"
    assert ipam["operator"] == {"clusterPoolIPv4PodCIDRList": ["10.244.0.0/16"], "clusterPoolIPv4MaskSize": 25}


def test_ipam_kubernetes_requested_without_podcidrs_fails_naming_nodes():
    nodes = load("nodes.yaml")
    nodes[1]["spec"].pop("podCIDR")
    nodes[1]["spec"].pop("podCIDRs")
    with pytest.raises(DeriveError, match=r"ipam.mode=kubernetes but node\(s\) n2 have no podCIDR"):
        derive_values(make_facts(nodes=nodes), {}, {"ipam_mode": "kubernetes"})


def test_tunnel_when_l2_unknown_and_port_moved_off_flannel():
    out = derive_values(make_facts())
    v = out["values"]
    assert v["routingMode"] == "tunnel" and v["tunnelProtocol"] == "vxlan"
    assert v["tunnelPort"] == 8473
    assert "ipv4NativeRoutingCIDR" not in v and "autoDirectNodeRoutes" not in v


def test_no_port_change_when_flannel_removed_first():
    out = derive_values(make_facts(), {}, {"flannel_coexists": False})
    assert "tunnelPort" not in out["values"]


def test_no_port_change_when_flannel_uses_other_port():
    out = derive_values(make_facts(net_conf='{"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan", "Port": 4789}}'))
    assert "tunnelPort" not in out["values"]


def test_native_with_shared_l2():
    out = derive_values(make_facts(node_cidr="10.77.0.0/24"))
    v = out["values"]
    assert v["routingMode"] == "native"
    assert v["ipv4NativeRoutingCIDR"] == "10.244.0.0/16"
    assert v["autoDirectNodeRoutes"] is True
    assert "tunnelPort" not in v and "tunnelProtocol" not in v


def test_native_requested_by_operator_without_l2_warns():
    out = derive_values(make_facts(), {"routingMode": "native"})
    assert out["values"]["ipv4NativeRoutingCIDR"] == "10.244.0.0/16"
    assert out["values"]["autoDirectNodeRoutes"] is False
    assert any("shared L2" in w for w in out["warnings"])


def test_user_native_cidr_must_cover_pods():
    with pytest.raises(DeriveError, match="ipv4NativeRoutingCIDR 10.245.0.0/16 does not contain the pod CIDR 10.244.0.0/24"):
        derive_values(make_facts(node_cidr="10.77.0.0/24"), {"ipv4NativeRoutingCIDR": "10.245.0.0/16"})


def test_user_tunnel_port_collision_is_an_error():
    with pytest.raises(DeriveError, match="tunnelPort 8472 collides with Flannel's VXLAN port 8472"):
        derive_values(make_facts(), {"tunnelPort": 8472})


def test_geneve_does_not_collide():
    out = derive_values(make_facts(), {"tunnelProtocol": "geneve"})
    assert "tunnelPort" not in out["values"]


def test_pod_overlaps_service_cidr():
    facts = make_facts(kubeadm=kubeadm_cm(pod="10.96.0.0/16", svc="10.96.0.0/12"),
                       nodes=[], net_conf='{"Network": "10.96.0.0/16", "Backend": {"Type": "vxlan"}}')
    with pytest.raises(DeriveError, match=r"pod CIDR 10.96.0.0/16 \(ipam.operator.clusterPoolIPv4PodCIDRList\) "
                                          r"overlaps the service CIDR 10.96.0.0/12"):
        derive_values(facts)


def test_user_pool_contains_node_address():
    with pytest.raises(DeriveError, match="pod CIDR 10.77.0.0/16 .* contains the address 10.77.0.11 of node n1"):
        derive_values(make_facts(), {"ipam": {"mode": "cluster-pool",
                                              "operator": {"clusterPoolIPv4PodCIDRList": ["10.77.0.0/16"]}}})


def test_service_cidr_contains_node_address():
    facts = make_facts(kubeadm=kubeadm_cm(svc="10.77.0.0/24"))
    with pytest.raises(DeriveError, match="service CIDR 10.77.0.0/24 contains the address 10.77.0.12 of node n2"):
        derive_values(facts)


def test_all_problems_reported_together():
    with pytest.raises(DeriveError) as err:
        derive_values(make_facts(), {"kubeProxyReplacement": False, "tunnelPort": 8472})
    assert "kubeProxyReplacement" in str(err.value) and "collides" in str(err.value)


def test_no_endpoint_anywhere():
    facts = make_facts(kubeadm=kubeadm_cm(endpoint=""), cluster_info=False)
    with pytest.raises(DeriveError, match="k8sServiceHost is unknown"):
        derive_values(facts)
    # the operator can supply it
    out = derive_values(facts, {"k8sServiceHost": "api.example", "k8sServicePort": 6443})
    assert "k8sServiceHost" not in out["values"]


def test_dual_stack():
    facts = make_facts(kubeadm=kubeadm_cm(pod="10.244.0.0/16,fd00:10:244::/56", svc="10.96.0.0/12,fd00:10:96::/112"),
                       node_cidr="10.77.0.0/24")
    out = derive_values(facts)
    v = out["values"]
    assert v["ipv6"] == {"enabled": True}
    assert v["ipv6NativeRoutingCIDR"] == "fd00:10:244::/56"


def test_precedence_with_shared_merge():
    """defaults < derived < files < dict, merged with the collection's single merge implementation."""
    out = derive_values(make_facts(), {"bpf": {"masquerade": False}})
    files = {"operator": {"replicas": 3}, "hubble": {"enabled": False}}
    final = deep_merge([out["values"], files, {"bpf": {"masquerade": False}}])
    assert final["operator"]["replicas"] == 3
    assert final["bpf"]["masquerade"] is False
    assert final["k8sServiceHost"] == "cp.lab.example"
    assert out["effective"]["bpf.masquerade"] is False


def test_single_node_one_operator_replica_and_native():
    out = derive_values(make_facts(nodes=load("nodes.yaml")[:1]))
    assert out["values"]["operator"]["replicas"] == 1
    assert out["values"]["routingMode"] == "native"


@pytest.mark.parametrize("options, match", [
    ({"ipam_mode": "magic"}, "ipam_mode must be one of"),
    ({"routing": "carrier"}, "routing must be one of"),
    ({"bogus": 1}, "unknown option"),
])
def test_bad_options(options, match):
    with pytest.raises(DeriveError, match=match):
        derive_values(make_facts(), {}, options)


def test_bad_facts():
    with pytest.raises(DeriveError, match="schema-1"):
        derive_values({"nodes": []})
