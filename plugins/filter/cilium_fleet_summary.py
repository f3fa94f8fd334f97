# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: cilium_fleet_summary
short_description: Summarise the preflight verdicts of a fleet
version_added: 0.1.0
author:
  - kubeshift maintainers
description:
  - Takes a dict of node name to node entry (the output of P(kubeshift.cilium.cilium_node_verdict#filter))
    and returns the C(summary) part of C(report.json).
  - The fleet verdict is the worst node verdict (V(fail) > V(unknown) > V(warn) > V(pass)); an empty fleet is
    V(unknown). C(ok) is true only when no node is V(fail) or V(unknown), so unknown kernel configs never pass
    silently.
  - Malformed entries fail with a message starting C(kubeshift.cilium.cilium_fleet_summary:) naming the node.
positional: _input
options:
  _input:
    description: Node name to node entry.
    type: dict
    required: true
seealso:
  - plugin: kubeshift.cilium.cilium_fleet_report
    plugin_type: filter
"""

EXAMPLES = r"""
---
- name: Stop before changing anything when a node cannot run Cilium
  ansible.builtin.assert:
    that: __summary.ok
    fail_msg: "Blocking nodes: {{ __summary.blocking_nodes | join(', ') }}"
  vars:
    __summary: "{{ __preflight_results | kubeshift.cilium.cilium_fleet_summary }}"
"""

RETURN = r"""
_value:
  description: The fleet summary.
  type: dict
  contains:
    nodes:
      description: Number of nodes.
      type: int
      sample: 3
    verdicts:
      description: Number of nodes per verdict.
      type: dict
      sample: {"pass": 1, "warn": 1, "fail": 1, "unknown": 0}
    verdict:
      description: Worst node verdict.
      type: str
      sample: fail
    ok:
      description: True when no node is V(fail) or V(unknown).
      type: bool
      sample: false
    blocking_nodes:
      description: Nodes whose verdict is V(fail) or V(unknown).
      type: list
      elements: str
      sample: [node1]
    warning_nodes:
      description: Nodes whose verdict is V(warn).
      type: list
      elements: str
      sample: [node2]
    checks:
      description: Per check id, how many nodes had it V(fail), V(unknown) or V(warn).
      type: dict
      sample: {"CONFIG_SCHEDSTATS": {"fail": 1, "unknown": 0, "warn": 0}}
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kubeshift.cilium.plugins.module_utils._preflight import fleet_summary


def cilium_fleet_summary(node_results):
    """Summarise node verdicts."""
    try:
        return fleet_summary(node_results)
    except ValueError as exc:
        raise AnsibleFilterError("kubeshift.cilium.cilium_fleet_summary: %s" % exc) from exc


class FilterModule(object):
    """Ansible filter: cilium_fleet_summary."""

    def filters(self):
        return {"cilium_fleet_summary": cilium_fleet_summary}
