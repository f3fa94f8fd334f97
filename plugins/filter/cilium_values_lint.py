# -*- coding: utf-8 -*-
# Copyright (c) kubeshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: cilium_values_lint
short_description: Check Cilium Helm values against the target chart's own values.yaml
version_added: 0.1.0
author: kubeshift maintainers (@kubeshift)
description:
  - The Cilium chart's schema accepts almost anything (C(routingMode=bogus), C(ipam.mode=nonsense) and unknown keys
    all render). This filter reports, before anything changes, unknown keys (with a did-you-mean), keys removed in
    the target chart line (for example C(externalIPs.enabled) gone in 1.18, C(nodePort.enabled) in 1.19), invalid
    enum values (C(routingMode), C(tunnelProtocol), C(ipam.mode), C(kubeProxyReplacement), C(bpf.datapathMode),
    C(encryption.type), C(loadBalancer.mode)/C(algorithm)/C(dsrDispatch)/C(acceleration), ...) and strings given to
    boolean keys.
  - The known keys come from the chart's C(values.yaml) (C(helm show values <chart>)); keys documented but commented
    out there (such as C(socketLB.hostNamespaceOnly), C(loadBalancer.mode)) count as known.
positional: values_yaml, version
options:
  _input:
    description: The final Helm values.
    type: dict
    required: true
  values_yaml:
    description: Text of the target chart's C(values.yaml).
    type: str
    required: true
  version:
    description: The target Cilium chart version, C(X.Y.Z).
    type: str
    required: true
  ignore:
    description: Dotted keys (and their sub-keys) to leave unchecked.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
---
- name: Lint the values
  ansible.builtin.set_fact:
    __lint: "{{ final_values | kubeshift.cilium.cilium_values_lint(chart_values.stdout, cilium_version) }}"

- name: Stop on findings
  ansible.builtin.assert:
    that: __lint.ok
    fail_msg: "{{ __lint.findings | map(attribute='message') | list }}"
"""

RETURN = r"""
_value:
  description: The lint report.
  type: dict
  contains:
    ok:
      description: V(true) when there are no findings.
      type: bool
    version:
      description: The chart version checked against.
      type: str
    line:
      description: The chart line (C(X.Y)).
      type: str
    findings:
      description: One entry per problem with C(key), C(kind) (unknown, removed, invalid_value, invalid_type),
        C(message) and C(suggestion).
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kubeshift.cilium.plugins.module_utils._values_lint import lint_values


def cilium_values_lint(values, values_yaml=None, version=None, ignore=None):
    if values is not None and not isinstance(values, dict):
        raise AnsibleFilterError("kubeshift.cilium.cilium_values_lint: the input must be a mapping of Helm values, "
                                 "not %s" % type(values).__name__)
    if not isinstance(values_yaml, str):
        raise AnsibleFilterError("kubeshift.cilium.cilium_values_lint: values_yaml must be the text of the chart's "
                                 "values.yaml")
    try:
        return lint_values(values or {}, values_yaml, str(version or ""), list(ignore or []),
                           source="values.yaml of the Cilium %s chart" % version)
    except ValueError as exc:
        raise AnsibleFilterError("kubeshift.cilium.cilium_values_lint: %s" % exc) from exc


class FilterModule:
    def filters(self):
        return {"cilium_values_lint": cilium_values_lint}
