# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: cilium_fleet_report
short_description: Build the fleet preflight report as a dict, JSON, Markdown or self-contained HTML
version_added: 0.1.0
author:
  - kubeshift maintainers
description:
  - Takes a dict of node name to node entry (the output of P(kubeshift.cilium.cilium_node_verdict#filter))
    and the Cilium version, adds the fleet summary and renders the report.
  - "C(report.json) shape: C({cilium_version, nodes: {HOST: entry}, summary})."
  - "The summary holds C(nodes) (count), C(verdicts) (count per verdict), C(verdict) (worst node verdict,
    V(fail) > V(unknown) > V(warn) > V(pass); V(unknown) for an empty fleet), C(ok) (true only when no node is
    V(fail) or V(unknown)), C(blocking_nodes), C(warning_nodes) and C(checks) (per check id, how many nodes
    failed, were unknown or warned)."
  - The HTML page is self-contained (inline CSS, no script, no external URL) with the summary on top, a
    fleet by check matrix (one row per node, one column per check id, colour plus a text label in every cell)
    and a details section listing every failing, unknown and warning check with required, found and message.
  - Everything taken from the input is escaped.
  - Bad input fails with a message starting C(kubeshift.cilium.cilium_fleet_report:).
positional: _input, cilium_version
options:
  _input:
    description: Node name to node entry.
    type: dict
    required: true
  cilium_version:
    description: The Cilium version the report is about.
    type: str
    required: true
  format:
    description:
      - V(dict) returns the report as a dict; V(json), V(markdown) and V(html) return text.
    type: str
    default: json
    choices: [dict, json, markdown, html]
  indent:
    description: Indentation for V(json); compact when not set.
    type: int
seealso:
  - plugin: kubeshift.cilium.cilium_node_verdict
    plugin_type: filter
"""

EXAMPLES = r"""
---
- name: Write the report files on the controller
  ansible.builtin.copy:
    dest: "{{ preflight_report_dir }}/report.{{ item.ext }}"
    content: "{{ __preflight_results | kubeshift.cilium.cilium_fleet_report(cilium_version, format=item.format) }}"
    mode: "0644"
  loop:
    - {format: json, ext: json}
    - {format: markdown, ext: md}
    - {format: html, ext: html}
  delegate_to: localhost
  run_once: true

- name: Fail when any node blocks the install
  ansible.builtin.assert:
    that: (__preflight_results | kubeshift.cilium.cilium_fleet_report(cilium_version, format='dict')).summary.ok
"""

RETURN = r"""
_value:
  description: The report (a dict for O(format=dict), otherwise text).
  type: raw
  sample: {"cilium_version": "1.18.12", "nodes": {}, "summary": {"nodes": 0, "verdict": "unknown", "ok": false}}
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kubeshift.cilium.plugins.module_utils._report import build_report, render

_FORMATS = ("dict", "json", "markdown", "html")


def cilium_fleet_report(node_results, cilium_version, format="json", indent=None):  # pylint: disable=redefined-builtin
    """Build and render the fleet report."""
    if format not in _FORMATS:
        raise AnsibleFilterError(
            "kubeshift.cilium.cilium_fleet_report: format %r is not one of %s" % (format, ", ".join(_FORMATS))
        )
    if indent is not None and (isinstance(indent, bool) or not isinstance(indent, int)):
        raise AnsibleFilterError("kubeshift.cilium.cilium_fleet_report: indent must be an integer, got %r" % (indent,))
    try:
        report = build_report(node_results, cilium_version)
        if format == "dict":
            return report
        return render(report, format, indent)
    except ValueError as exc:
        raise AnsibleFilterError("kubeshift.cilium.cilium_fleet_report: %s" % exc) from exc


class FilterModule(object):
    """Ansible filter: cilium_fleet_report."""

    def filters(self):
        return {"cilium_fleet_report": cilium_fleet_report}
