# -*- coding: utf-8 -*-
# Copyright (c) kubeshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: cilium_status_check
short_description: Judge the C(cilium-dbg status) output of every Cilium agent
version_added: 0.1.0
author: kubeshift maintainers (@kubeshift)
description:
  - Parses C(cilium-dbg status -o json) (or its text form) of each agent and checks that kube-proxy replacement is
    C(True), that no controller is failing, that the Cilium and Kubernetes subsystems are not failing, and reports
    the inter-host and host routing modes (checked when expected values are given).
  - Output that cannot be parsed fails that node rather than raising.
options:
  _input:
    description:
      - Mapping of node name to that node's agent output (text, or an already parsed JSON object).
      - A node whose agent could not be read maps to a dict with the single key C(error) (the reason).
    type: dict
    required: true
  kpr:
    description: Expected kube-proxy replacement state.
    type: bool
    default: true
  routing:
    description: Expected inter-host routing mode; not checked when omitted.
    type: str
    choices: [tunnel, native]
  host_routing:
    description: Expected host routing mode; not checked when omitted.
    type: str
    choices: [BPF, Legacy]
  tunnel_protocol:
    description: Expected tunnel protocol when routing is tunnel.
    type: str
    choices: [vxlan, geneve]
  expected_nodes:
    description: Nodes that must have an agent; a missing one is a failure.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
---
- name: Judge the agents
  ansible.builtin.set_fact:
    __verdict: "{{ agent_outputs | kubeshift.cilium.cilium_status_check(routing='tunnel', expected_nodes=groups['nodes']) }}"

- name: Fail naming node and check
  ansible.builtin.assert:
    that: __verdict.ok
    fail_msg: "{{ __verdict.failures }}"
"""

RETURN = r"""
_value:
  description: The fleet verdict.
  type: dict
  contains:
    ok:
      description: V(true) when no node failed a check.
      type: bool
    nodes:
      description: Per node, C(ok), C(checks) (C(id), C(status) pass/warn/fail, C(message)) and a C(summary).
      type: dict
    failures:
      description: Messages of failed checks, each naming the node.
      type: list
      elements: str
    warnings:
      description: Messages of checks in warning state.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kubeshift.cilium.plugins.module_utils._cilium_status import check_fleet


def cilium_status_check(outputs, kpr=True, routing=None, host_routing=None, tunnel_protocol=None,
                        expected_nodes=None):
    if not isinstance(outputs, dict):
        raise AnsibleFilterError("kubeshift.cilium.cilium_status_check: the input must map node names to "
                                 "cilium-dbg status output, not %s" % type(outputs).__name__)
    expect = {"kpr": bool(kpr), "routing": routing or None, "host_routing": host_routing or None,
              "tunnel_protocol": tunnel_protocol or None}
    try:
        return check_fleet(dict(outputs), expect, list(expected_nodes or []))
    except ValueError as exc:
        raise AnsibleFilterError("kubeshift.cilium.cilium_status_check: %s" % exc) from exc


class FilterModule:
    def filters(self):
        return {"cilium_status_check": cilium_status_check}
