# -*- coding: utf-8 -*-
# Copyright (c) kubeshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: cilium_unmanaged_pods
short_description: Find the pods still attached to the previous CNI once Cilium runs
version_added: 0.1.0
author: kubeshift maintainers (@kubeshift)
description:
  - A pod counts as managed by Cilium when a CiliumEndpoint with its namespace and name exists, or when it was created
    after the Cilium agent on its node became Ready. Every other running or pending, non-host-network pod still has
    the network the previous CNI (Flannel) gave it and must be restarted.
  - Pods without a controller are listed separately (C(bare)) because deleting them would lose them; pods on a node
    whose agent is not Ready yet are listed as C(waiting).
options:
  _input:
    description: All pods of the cluster.
    type: list
    elements: dict
    required: true
  agent_pods:
    description: The Cilium agent pods (label C(k8s-app=cilium)).
    type: list
    elements: dict
    required: true
  endpoints:
    description: The CiliumEndpoint objects (empty when the CRD does not exist yet).
    type: list
    elements: dict
    default: []
"""

EXAMPLES = r"""
---
- name: Pick the pods to restart
  ansible.builtin.set_fact:
    __pods: "{{ all_pods.resources | kubeshift.cilium.cilium_unmanaged_pods(agent_pods=agents.resources, endpoints=ceps.resources) }}"
"""

RETURN = r"""
_value:
  description: Pods by action.
  type: dict
  contains:
    restart:
      description: Pods with a controller, attached to the previous CNI (C(namespace), C(name), C(node), C(pod_ip), C(owner)).
      type: list
      elements: dict
    bare:
      description: Pods without a controller, attached to the previous CNI.
      type: list
      elements: dict
    waiting:
      description: Pods on nodes whose Cilium agent is not Ready.
      type: list
      elements: dict
    managed:
      description: Number of pods already managed by Cilium.
      type: int
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kubeshift.cilium.plugins.module_utils._cluster import unmanaged_pods


def cilium_unmanaged_pods(pods, agent_pods=None, endpoints=None):
    if not isinstance(pods, list) or not isinstance(agent_pods, list):
        raise AnsibleFilterError("kubeshift.cilium.cilium_unmanaged_pods: the input and agent_pods must be lists of "
                                 "Pod objects")
    try:
        return unmanaged_pods(pods, agent_pods, list(endpoints or []))
    except (ValueError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError("kubeshift.cilium.cilium_unmanaged_pods: %s" % exc) from exc


class FilterModule:
    def filters(self):
        return {"cilium_unmanaged_pods": cilium_unmanaged_pods}
