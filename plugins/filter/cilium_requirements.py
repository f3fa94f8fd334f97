# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: cilium_requirements
short_description: What a Cilium version installed with given Helm values needs from every node
version_added: 0.1.0
author:
  - kubeshift maintainers
description:
  - Takes a Cilium version and the merged Helm values the install will use, and returns the kernel floor
    (with distro backports), the kernel-config groups and options, the advanced features and their minimum
    kernels, the kernel modules to classify, the ports Cilium will listen on, and the mounts it needs.
  - The data comes from the collection's requirements matrix for the lines 1.16 to 1.20.
  - Values decide groups, for example V(routingMode=native) drops the VXLAN/Geneve options,
    V(bpf.masquerade=true) drops iptables masquerading, V(encryption.enabled=true) with
    V(encryption.type=ipsec) or V(wireguard) adds that encryption group, V(bandwidthManager.enabled=true),
    V(bpf.datapathMode=netkit), BIG TCP and V(kubeProxyReplacement=true) add their groups or features.
  - Unset values take the chart defaults of that line (V(l7Proxy=true), V(hubble.enabled=true), tunnel mode
    with VXLAN, V(bpf.masquerade) off, no kube-proxy replacement).
  - Accepted versions are V(X.Y), V(X.Y.Z), a leading V(v) and a pre-release suffix such as V(1.19.0-pre.3).
    A bare line such as V(1.19) means any patch of it, so patch-level rules (BTF from 1.19.3) apply.
    Pre-release suffixes are ignored when comparing with patch-level rules.
  - Errors (unsupported or malformed version, a non-string version, values of the wrong type) fail the task
    with a message starting C(kubeshift.cilium.cilium_requirements:).
positional: _input, values
options:
  _input:
    description: Cilium version, for example V(1.18.12). Quote it in YAML so it stays a string.
    type: string
    required: true
  values:
    description:
      - Merged Helm values (see P(kubeshift.cilium.cilium_merge_values#filter)).
    type: dict
    default: {}
seealso:
  - plugin: kubeshift.cilium.cilium_node_verdict
    plugin_type: filter
  - plugin: kubeshift.cilium.cilium_merge_values
    plugin_type: filter
"""

EXAMPLES = r"""
---
- name: Compute what Cilium needs with the values the install role will use
  ansible.builtin.set_fact:
    __preflight_requirements: "{{ cilium_version | kubeshift.cilium.cilium_requirements(cilium_values) }}"

- name: Show the kernel-config groups
  ansible.builtin.debug:
    msg: "{{ __preflight_requirements.groups | map(attribute='id') | list }}"
"""

RETURN = r"""
_value:
  description: The requirements.
  type: dict
  contains:
    schema:
      description: Shape version of this dict.
      type: int
      sample: 1
    version:
      description: The normalised version.
      type: str
      sample: 1.18.12
    line:
      description: The minor line.
      type: str
      sample: "1.18"
    kernel_floor:
      description: Minimum kernel C(version) and distro C(backports) rules.
      type: dict
      sample: {"version": [5, 10, 0], "backports": [{"distro": "rhel", "min_distro_version": "8.6", "kernel": [4, 18, 0]}]}
    groups:
      description: Required kernel-config groups in report order, each with C(id), C(title), C(reason) and C(options).
      type: list
      elements: dict
      sample: [{"id": "base", "reason": "always", "options": [{"name": "CONFIG_BPF", "type": "bool", "severity": "fail"}]}]
    features:
      description: Advanced features these values turn on, with C(min_kernel), C(severity) and C(reason).
      type: list
      elements: dict
      sample: [{"id": "netkit", "min_kernel": [6, 8, 0], "severity": "fail", "reason": "bpf.datapathMode=netkit or netkit-l2"}]
    modules:
      description: Module names of the tristate options, for the node facts module to classify.
      type: list
      elements: str
      sample: [cls_bpf, vxlan]
    ports:
      description: Ports Cilium will listen on.
      type: list
      elements: dict
      sample: [{"port": 4240, "protocol": "tcp", "purpose": "health"}]
    needs:
      description: Mount and BTF needs (C(bpffs), C(bpffs_automount), C(cgroup2), C(cgroup2_automount), C(btf)).
      type: dict
      sample: {"bpffs": true, "bpffs_automount": true, "cgroup2": true, "cgroup2_automount": true, "btf": false}
    settings:
      description: The decisions read from the values (routing mode, encryption, KPR, ...).
      type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kubeshift.cilium.plugins.module_utils._preflight import requirements


def cilium_requirements(version, values=None):
    """Return the requirements for ``version`` with Helm ``values``."""
    try:
        return requirements(version, {} if values is None else values)
    except ValueError as exc:
        raise AnsibleFilterError("kubeshift.cilium.cilium_requirements: %s" % exc) from exc


class FilterModule(object):
    """Ansible filter: cilium_requirements."""

    def filters(self):
        return {"cilium_requirements": cilium_requirements}
