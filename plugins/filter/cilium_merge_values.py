# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: cilium_merge_values
short_description: Merge Helm values the way C(helm -f a.yaml -f b.yaml --set ...) does
version_added: 0.1.0
author:
  - kubeshift maintainers
description:
  - Deep-merges a list of Helm value dicts from left to right; later items win.
  - Nested dicts are merged key by key; lists and scalars are replaced, not merged.
  - V(null) items (an empty YAML file) are skipped. Inputs are not modified.
  - Use it to combine the contents of C(cilium_values_files) (in order) and then C(cilium_values), exactly as
    the install role does, so the preflight checks the same values that will be installed.
  - A non-list input, an item that is not a dict, or a non-string key fails with a message starting
    C(kubeshift.cilium.cilium_merge_values:) that names the item.
positional: _input
options:
  _input:
    description: Helm value dicts, lowest precedence first.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
---
- name: Merge the values files and the inline values
  ansible.builtin.set_fact:
    __preflight_values: >-
      {{ (cilium_values_files | map('ansible.builtin.file') | map('ansible.builtin.from_yaml') | list
          + [cilium_values]) | kubeshift.cilium.cilium_merge_values }}
"""

RETURN = r"""
_value:
  description: The merged values.
  type: dict
  sample: {"routingMode": "native", "bpf": {"masquerade": true, "datapathMode": "veth"}}
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kubeshift.cilium.plugins.module_utils._values import deep_merge


def cilium_merge_values(layers):
    """Merge Helm values, later layers winning."""
    try:
        return deep_merge(layers, "values list")
    except ValueError as exc:
        raise AnsibleFilterError("kubeshift.cilium.cilium_merge_values: %s" % exc) from exc


class FilterModule(object):
    """Ansible filter: cilium_merge_values."""

    def filters(self):
        return {"cilium_merge_values": cilium_merge_values}
