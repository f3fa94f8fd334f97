# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kubeshift.cilium.plugins.filter.cilium_fleet_summary import FilterModule, cilium_fleet_summary
from ansible_collections.kubeshift.cilium.plugins.filter.cilium_node_verdict import cilium_node_verdict
from ansible_collections.kubeshift.cilium.plugins.filter.cilium_requirements import cilium_requirements
from ansible_collections.kubeshift.cilium.tests.unit.plugins.filter.synthetic_facts import make_facts


def test_registered():
    assert FilterModule().filters() == {"cilium_fleet_summary": cilium_fleet_summary}


def test_unknown_blocks():
    req = cilium_requirements("1.18.12")
    summary = cilium_fleet_summary({
        "a": cilium_node_verdict(make_facts(), req, node="a"),
        "b": cilium_node_verdict(make_facts(config_status="unknown", config_reason="unreadable"), req, node="b"),
    })
    assert summary["verdict"] == "unknown" and summary["ok"] is False and summary["blocking_nodes"] == ["b"]


def test_error():
    with pytest.raises(AnsibleFilterError) as err:
        cilium_fleet_summary({"x": None})
    assert str(err.value) == "kubeshift.cilium.cilium_fleet_summary: node x: result is not a node verdict (missing checks list)"
