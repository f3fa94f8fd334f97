# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kubeshift.cilium.plugins.filter.cilium_node_verdict import FilterModule, cilium_node_verdict
from ansible_collections.kubeshift.cilium.plugins.filter.cilium_requirements import cilium_requirements
from ansible_collections.kubeshift.cilium.tests.unit.plugins.filter.synthetic_facts import check, make_facts


def test_registered():
    assert FilterModule().filters() == {"cilium_node_verdict": cilium_node_verdict}


def test_pass_and_fail():
    req = cilium_requirements("1.18.12", {})
    assert cilium_node_verdict(make_facts(), req, node="n1")["verdict"] == "pass"
    failed = cilium_node_verdict(make_facts(option_overrides={"CONFIG_CGROUP_BPF": "n"}), req, node="n1")
    assert failed["verdict"] == "fail" and check(failed, "CONFIG_CGROUP_BPF")["status"] == "fail"


@pytest.mark.parametrize("facts, req, fragment", [
    (["x"], None, "node worker-3: node_facts must be a dict, got list"),
    ({"kernel_config": {"status": "ok", "options": "CONFIG_BPF=y"}}, None, "node worker-3: node_facts.kernel_config"),
    ({}, {"groups": []}, "pass the output of cilium_requirements"),
])
def test_errors_name_the_node(facts, req, fragment):
    req = req if req is not None else cilium_requirements("1.18.12")
    with pytest.raises(AnsibleFilterError) as err:
        cilium_node_verdict(facts, req, node="worker-3")
    assert str(err.value).startswith("kubeshift.cilium.cilium_node_verdict: ")
    assert fragment in str(err.value)
