# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: cilium_node_verdict
short_description: Compare one node's facts with Cilium's requirements
version_added: 0.1.0
author:
  - kubeshift maintainers
description:
  - Takes the C(node_facts) result of M(kubeshift.cilium.node_facts) and the output of
    P(kubeshift.cilium.cilium_requirements#filter), and returns that node's entry of C(report.json).
  - "Checks: C(architecture) (amd64/arm64 only), C(kernel_version) (with distro backports such as RHEL 8.6+
    4.18 kernels), one check per kernel-config option of every required group (named after the option),
    C(module:<name>) for options built as modules, C(bpffs), C(bpffs_persisted), C(cgroup2), C(btf),
    C(feature:<id>), C(port:<proto>/<port>), C(firewall), C(iptables_backends) and C(privileges)."
  - Tristate options pass with V(y) or V(m); bool options only with V(y). Absent or V(n) options fail (or warn
    for warn-level options). An option that no longer exists on the node's kernel, such as
    C(CONFIG_INET_XFRM_MODE_TUNNEL) on 5.2 and later, is V(skipped).
  - When the kernel config is unknown every option check is V(unknown) and the node verdict is at least
    V(unknown); it never passes silently.
  - The verdict is the worst check status, ordered V(fail) > V(unknown) > V(warn) > V(pass); V(skipped) does
    not count.
  - Malformed facts or requirements fail with a message starting C(kubeshift.cilium.cilium_node_verdict:)
    that names the node.
positional: _input, requirements
options:
  _input:
    description: The C(node_facts) dict (schema 1).
    type: dict
    required: true
  requirements:
    description: Output of P(kubeshift.cilium.cilium_requirements#filter).
    type: dict
    required: true
  node:
    description: Node name used in messages; defaults to C(hostname) from the facts.
    type: str
seealso:
  - plugin: kubeshift.cilium.cilium_requirements
    plugin_type: filter
  - plugin: kubeshift.cilium.cilium_fleet_report
    plugin_type: filter
"""

EXAMPLES = r"""
---
- name: Decide this node
  ansible.builtin.set_fact:
    __preflight_verdict: >-
      {{ __preflight_facts.node_facts
         | kubeshift.cilium.cilium_node_verdict(__preflight_requirements, node=inventory_hostname) }}

- name: List failing checks
  ansible.builtin.debug:
    msg: "{{ __preflight_verdict.checks | selectattr('status', 'equalto', 'fail') | map(attribute='id') | list }}"
"""

RETURN = r"""
_value:
  description: The node's entry of report.json.
  type: dict
  contains:
    verdict:
      description: One of V(pass), V(warn), V(fail), V(unknown).
      type: str
      sample: fail
    kernel_release:
      description: The node's kernel release, or V(unknown).
      type: str
      sample: 6.1.0-28-amd64
    checks:
      description: Every check with C(id), C(group), C(status), C(required), C(found) and C(message).
      type: list
      elements: dict
      sample: [{"id": "CONFIG_SCHEDSTATS", "group": "base", "status": "fail", "required": "y", "found": null,
                "message": "CONFIG_SCHEDSTATS is not set in /proc/config.gz (needed by group base)"}]
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kubeshift.cilium.plugins.module_utils._preflight import node_verdict


def cilium_node_verdict(facts, requirements, node=None):
    """Return the report.json entry for one node."""
    try:
        return node_verdict(facts, requirements, node)
    except ValueError as exc:
        raise AnsibleFilterError("kubeshift.cilium.cilium_node_verdict: %s" % exc) from exc


class FilterModule(object):
    """Ansible filter: cilium_node_verdict."""

    def filters(self):
        return {"cilium_node_verdict": cilium_node_verdict}
