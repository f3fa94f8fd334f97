# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import os

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.kubeshift.cilium.plugins.filter.cilium_cluster_facts import (
    FilterModule as FactsFilters,
    cilium_cluster_facts,
)
from ansible_collections.kubeshift.cilium.plugins.filter.cilium_derive_values import FilterModule, cilium_derive_values

FIX = os.path.join(os.path.dirname(__file__), "..", "module_utils", "fixtures", "cluster")


def load(name):
    with open(os.path.join(FIX, name)) as handle:
        return yaml.safe_load(handle)


def facts(**kw):
    return cilium_cluster_facts(load("kubeadm-config-v1beta3.yaml"), nodes=load("nodes.yaml"),
                                daemonsets=[load("kube-proxy-ds.yaml"), load("flannel-ds.yaml")],
                                configmaps=[load("kube-proxy-cm.yaml"), load("flannel-cm.yaml")], **kw)


def test_registered():
    assert FilterModule().filters()["cilium_derive_values"] is cilium_derive_values
    assert FactsFilters().filters()["cilium_cluster_facts"] is cilium_cluster_facts


def test_facts_then_values():
    out = cilium_derive_values(facts(node_cidr="10.77.0.0/24"), user_values={}, flannel_coexists=False)
    assert out["values"]["routingMode"] == "native"
    assert out["values"]["k8sServiceHost"] == "cp.lab.example"


def test_options_passed_through():
    out = cilium_derive_values(facts(), ipam_mode="cluster-pool", cluster_pool_cidr="10.245.0.0/16", routing="tunnel",
                               flannel_coexists=True)
    assert out["values"]["ipam"]["operator"]["clusterPoolIPv4PodCIDRList"] == ["10.245.0.0/16"]
    assert out["values"]["tunnelPort"] == 8473


def test_derive_error_becomes_filter_error():
    with pytest.raises(AnsibleFilterError, match=r"^kubeshift.cilium.cilium_derive_values: .*overlaps the service CIDR"):
        cilium_derive_values(facts(), user_values={"ipam": {"mode": "cluster-pool", "operator": {
            "clusterPoolIPv4PodCIDRList": ["10.96.0.0/16"]}}})


def test_bad_input_type():
    with pytest.raises(AnsibleFilterError, match="the input must be the cluster facts mapping, not list"):
        cilium_derive_values([])


def test_facts_filter_errors():
    with pytest.raises(AnsibleFilterError, match=r"^kubeshift.cilium.cilium_cluster_facts: ConfigMap kube-system/kubeadm-config not found"):
        cilium_cluster_facts(None, nodes=load("nodes.yaml"))
    with pytest.raises(AnsibleFilterError, match="nodes must be the list of Node objects"):
        cilium_cluster_facts(load("kubeadm-config-v1beta3.yaml"), nodes=None)
    bad = load("flannel-cm.yaml")
    bad["data"]["net-conf.json"] = "{"
    with pytest.raises(AnsibleFilterError, match="kube-flannel/kube-flannel-cfg key net-conf.json is not valid JSON"):
        cilium_cluster_facts(load("kubeadm-config-v1beta3.yaml"), nodes=load("nodes.yaml"), configmaps=[bad])
