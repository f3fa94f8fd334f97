# -*- coding: utf-8 -*-
# Copyright (c) kubeshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: cilium_derive_values
short_description: Derive Cilium Helm values from the live cluster's facts
version_added: 0.1.0
author: kubeshift maintainers (@kubeshift)
description:
  - Builds the built-in default and cluster-derived layers of Cilium's Helm values from the output of the
    C(cilium_cluster_facts) filter. The caller merges the operator's layers (C(cilium_values_files), then
    C(cilium_values)) on top with C(kubeshift.cilium.cilium_merge_values).
  - Derives C(k8sServiceHost)/C(k8sServicePort) from the real API endpoint, turns on kube-proxy replacement and
    BPF masquerading, picks IPAM (C(kubernetes) when every node has a podCIDR, else C(cluster-pool) with the
    Flannel network), native routing with C(ipv4NativeRoutingCIDR) and C(autoDirectNodeRoutes) only when the nodes
    share an L2 segment (otherwise VXLAN tunnel), and a tunnel port that does not collide with Flannel's while both run.
  - Validates the effective values (operator layers included) with netaddr - pod CIDR against the service CIDR and
    the node addresses, native-routing CIDR coverage, tunnel port collision - and fails listing every problem.
options:
  _input:
    description: Output of the C(kubeshift.cilium.cilium_cluster_facts) filter.
    type: dict
    required: true
  user_values:
    description: The operator's values (files and dict already merged); read to follow and validate their choices.
    type: dict
    default: {}
  ipam_mode:
    description: V(auto) picks V(kubernetes) when every node has a podCIDR, otherwise V(cluster-pool).
    type: str
    choices: [auto, kubernetes, cluster-pool]
    default: auto
  cluster_pool_cidr:
    description: IPv4 pod CIDR for C(cluster-pool) IPAM; defaults to Flannel's Network, then kubeadm's podSubnet.
    type: str
  routing:
    description: V(auto) picks native routing only when the nodes share an L2 segment.
    type: str
    choices: [auto, tunnel, native]
    default: auto
  flannel_coexists:
    description:
      - Whether Flannel still runs while Cilium starts. Defaults to whether Flannel is present in the facts.
      - Pass V(false) when Flannel is removed before Cilium is installed, so that re-runs derive the same values.
    type: bool
"""

EXAMPLES = r"""
---
- name: Derive the values
  ansible.builtin.set_fact:
    __derived: "{{ cilium_cluster_facts | kubeshift.cilium.cilium_derive_values(user_values=cilium_values, flannel_coexists=false) }}"

- name: Show why each value was chosen
  ansible.builtin.debug:
    var: __derived.decisions
"""

RETURN = r"""
_value:
  description: Derived values and the reasons for them.
  type: dict
  contains:
    values:
      description: Built-in defaults merged with the cluster-derived values (without the operator's layers).
      type: dict
    decisions:
      description: One sentence per derived setting, saying why.
      type: list
      elements: str
    warnings:
      description: Inconsistencies that do not block (for example Flannel's Network differing from kubeadm's podSubnet).
      type: list
      elements: str
    effective:
      description: The validated keys as they will be once the operator's values are merged on top.
      type: dict
    pod_cidrs:
      description: The pod CIDRs that were checked.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kubeshift.cilium.plugins.module_utils._derive import derive_values


def cilium_derive_values(facts, user_values=None, ipam_mode="auto", cluster_pool_cidr=None, routing="auto",
                         flannel_coexists=None):
    if not isinstance(facts, dict):
        raise AnsibleFilterError("kubeshift.cilium.cilium_derive_values: the input must be the cluster facts "
                                 "mapping, not %s" % type(facts).__name__)
    options = {"ipam_mode": ipam_mode or "auto", "cluster_pool_cidr": cluster_pool_cidr or None,
               "routing": routing or "auto", "flannel_coexists": flannel_coexists}
    try:
        return derive_values(facts, user_values or {}, options)
    except ValueError as exc:
        raise AnsibleFilterError("kubeshift.cilium.cilium_derive_values: %s" % exc) from exc


class FilterModule:
    def filters(self):
        return {"cilium_derive_values": cilium_derive_values}
