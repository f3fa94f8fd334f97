# -*- coding: utf-8 -*-
# Copyright (c) kubeshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: cilium_cluster_facts
short_description: Describe a kubeadm cluster (endpoint, CIDRs, kube-proxy, Flannel, Cilium, nodes) from API objects
version_added: 0.1.0
author: kubeshift maintainers (@kubeshift)
description:
  - Turns the raw objects read with M(kubernetes.core.k8s_info) into one structured description of the cluster
    that the C(cilium_derive_values) filter and the migration roles consume.
  - Reads C(ClusterConfiguration) from C(kube-system/kubeadm-config) (kubeadm API v1beta3 or v1beta4), the
    C(config.conf) of the C(kube-system/kube-proxy) ConfigMap, Flannel's C(net-conf.json), the kube-proxy, Flannel
    and Cilium DaemonSets (Helm release or manifest) and the Node objects.
  - Fails with a message naming the object when one cannot be understood (malformed C(net-conf.json), unknown
    kubeadm API version, missing C(kubeadm-config)).
options:
  _input:
    description: The C(kube-system/kubeadm-config) ConfigMap object, or V(null) when it does not exist.
    type: dict
    required: true
  nodes:
    description: The Node objects (C(resources) of M(kubernetes.core.k8s_info) with C(kind=Node)).
    type: list
    elements: dict
    required: true
  daemonsets:
    description: All DaemonSets of the cluster.
    type: list
    elements: dict
    default: []
  configmaps:
    description: Candidate ConfigMaps (C(kube-system/kube-proxy) and the ConfigMaps of Flannel's namespace).
    type: list
    elements: dict
    default: []
  cluster_info:
    description: The C(kube-public/cluster-info) ConfigMap, used when C(controlPlaneEndpoint) is empty.
    type: dict
  kubeconfig_server:
    description: The controller's kubeconfig server URL, the last fallback for the API endpoint.
    type: str
  node_cidr:
    description:
      - The subnet all node InternalIPs share, when the operator knows it (for example V(10.77.0.0/24)).
      - Nodes only share an L2 segment (native routing with C(autoDirectNodeRoutes)) when this is given and every
        node is inside it, or when there is a single node.
    type: str
  require_kubeadm:
    description: Fail when the C(kubeadm-config) ConfigMap is missing.
    type: bool
    default: true
"""

EXAMPLES = r"""
---
- name: Describe the cluster
  ansible.builtin.set_fact:
    cilium_cluster_facts: >-
      {{ kubeadm_cm.resources[0] | default(None)
         | kubeshift.cilium.cilium_cluster_facts(nodes=nodes.resources, daemonsets=ds.resources,
                                                 configmaps=cms.resources, node_cidr='10.77.0.0/24') }}
"""

RETURN = r"""
_value:
  description: The cluster description (C(schema=1)).
  type: dict
  contains:
    schema:
      description: Version of this structure.
      type: int
    kubeadm:
      description: C(api_version), C(kubernetes_version), C(pod_subnets), C(service_subnets), C(endpoint),
        C(proxy_disabled_supported) (V(true) only for kubeadm v1beta4), C(proxy_disabled).
      type: dict
    api_endpoint:
      description: C(host), C(port), C(kind) (hostname, ipv4 or ipv6) and C(source) of the API endpoint.
      type: dict
    kube_proxy:
      description: C(present), C(config_present), C(mode), C(effective_mode), C(cluster_cidrs), C(daemonset).
      type: dict
    flannel:
      description: C(present), C(daemonset) (namespace, name, image, managed_by, helm_release), C(configmap),
        C(net_conf) (network, ipv6_network, subnet_len, backend type/port/vni).
      type: dict
    cilium:
      description: C(present) and C(daemonset) of an existing Cilium agent.
      type: dict
    nodes:
      description: One entry per node with C(name), C(internal_ips), C(pod_cidrs), C(kubelet_version), C(ready).
      type: list
      elements: dict
    l2:
      description: C(shared), C(certain), C(node_cidr), C(reason) of the shared-L2 decision.
      type: dict
    warnings:
      description: Inconsistencies found between the sources.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kubeshift.cilium.plugins.module_utils._cluster import build_cluster_facts


def cilium_cluster_facts(kubeadm_config, nodes=None, daemonsets=None, configmaps=None, cluster_info=None,
                         kubeconfig_server=None, node_cidr=None, require_kubeadm=True):
    if kubeadm_config is not None and not isinstance(kubeadm_config, dict):
        raise AnsibleFilterError("kubeshift.cilium.cilium_cluster_facts: the input must be the kubeadm-config "
                                 "ConfigMap object or null, not %s" % type(kubeadm_config).__name__)
    if not isinstance(nodes, list):
        raise AnsibleFilterError("kubeshift.cilium.cilium_cluster_facts: nodes must be the list of Node objects")
    try:
        return build_cluster_facts(kubeadm_config or None, nodes, daemonsets or [], configmaps or [],
                                   cluster_info or None, kubeconfig_server or None, node_cidr or None,
                                   bool(require_kubeadm))
    except ValueError as exc:
        raise AnsibleFilterError("kubeshift.cilium.cilium_cluster_facts: %s" % exc) from exc


class FilterModule:
    def filters(self):
        return {"cilium_cluster_facts": cilium_cluster_facts}
