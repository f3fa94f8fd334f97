#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

# Documentation only: the work is done by plugins/action/preflight_report.py, which runs on the controller and
# declares check mode support itself (ActionModule._supports_check_mode, the action-plugin form of
# supports_check_mode=True).

DOCUMENTATION = r"""
---
module: preflight_report
short_description: Write the fleet preflight report (JSON, Markdown, HTML) on the controller
version_added: 0.1.0
description:
  - Renders the fleet preflight report from the per-node verdicts with the collection's report code (the same
    output as the P(kubeshift.cilium.cilium_fleet_report#filter) filter, JSON indented by two spaces) and writes
    one file per requested format into O(dest) on the controller, creating the directory (mode C(0755)) if missing.
  - This is an action plugin. It runs in the controller process only; nothing is sent to or run on a node, so
    C(delegate_to) and the interpreter of the target host do not matter.
  - Each file is written through a temporary file and an atomic rename, and only when its content or its mode
    differs; RV(changed_files) lists them and the task reports changed only then.
  - Returns the fleet summary (the P(kubeshift.cilium.cilium_fleet_summary#filter) document), so a play can
    decide on the verdict without parsing the report again.
author:
  - kubeshift maintainers (@kubeshift)
options:
  results:
    description:
      - Per-node verdicts, node name to the C(cilium_node_verdict) result, as a mapping or as its JSON text.
    type: raw
    required: true
  cilium_version:
    description:
      - Cilium version the nodes were checked against, shown in the report.
    type: str
    required: true
  dest:
    description:
      - Controller directory for the report files. Created when missing. C(~) is expanded, symlinks are resolved.
    type: path
    required: true
  formats:
    description:
      - Which files to write; duplicates are ignored. V(json) writes C(report.json), V(markdown) C(report.md),
        V(html) C(report.html).
    type: list
    elements: str
    choices: [json, markdown, html]
    default: [json, markdown, html]
  mode:
    description:
      - Permissions of the report files, as an octal string.
    type: raw
    default: "0644"
attributes:
  action:
    support: full
    description: Implemented as an action plugin that runs on the controller only.
  check_mode:
    support: full
    description:
      - In check mode nothing is written and the task reports what would change. The C(kubeshift.cilium.preflight)
        role runs this task with C(check_mode=false) on purpose, because the report files are the product of the
        audit; the nodes are never touched by it.
  diff_mode:
    support: full
    description:
      - Shows, per changed file, its path and its size before and after, not its content (reports can be large).
  platform:
    support: full
    platforms: posix
    description: The controller.
notes:
  - Bad arguments or unusable verdicts fail with a message starting C(kubeshift.cilium.preflight_report:) and
    nothing is written.
seealso:
  - plugin: kubeshift.cilium.cilium_fleet_report
    plugin_type: filter
  - plugin: kubeshift.cilium.cilium_fleet_summary
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Write the report files
  kubeshift.cilium.preflight_report:
    results: "{{ __preflight_results }}"
    cilium_version: "1.18.12"
    dest: reports/preflight
    formats: [json, html]
  register: report
  check_mode: false

- name: Fail on a blocking node
  ansible.builtin.assert:
    that: report.summary.ok
"""

RETURN = r"""
dest:
  description: The report directory, symlinks resolved.
  returned: success
  type: str
  sample: /home/ops/reports/preflight
files:
  description: Every report file of the requested formats, changed or not.
  returned: success
  type: list
  elements: str
  sample: [/home/ops/reports/preflight/report.json, /home/ops/reports/preflight/report.html]
changed_files:
  description: The files written (or, in check mode, that would be written).
  returned: success
  type: list
  elements: str
  sample: [/home/ops/reports/preflight/report.html]
summary:
  description: The fleet summary, as returned by the P(kubeshift.cilium.cilium_fleet_summary#filter) filter.
  returned: success
  type: dict
  contains:
    verdict:
      description: Worst node verdict (pass, warn, fail, unknown).
      type: str
      sample: fail
    ok:
      description: True when no node is fail or unknown.
      type: bool
      sample: false
    nodes:
      description: Number of nodes.
      type: int
      sample: 50
    blocking_nodes:
      description: Nodes whose verdict is fail or unknown.
      type: list
      elements: str
      sample: [n02]
    warning_nodes:
      description: Nodes whose verdict is warn.
      type: list
      elements: str
      sample: []
    verdicts:
      description: Number of nodes per verdict.
      type: dict
      sample: {pass: 49, warn: 0, fail: 1, unknown: 0}
    checks:
      description: Per check id with at least one fail, warn or unknown node, the count of each.
      type: dict
      sample: {kernel_config: {fail: 1, warn: 0, unknown: 0}}
"""
