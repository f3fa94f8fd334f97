# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kubeshift.cilium.plugins.filter.cilium_fleet_report import FilterModule, cilium_fleet_report
from ansible_collections.kubeshift.cilium.plugins.filter.cilium_node_verdict import cilium_node_verdict
from ansible_collections.kubeshift.cilium.plugins.filter.cilium_requirements import cilium_requirements
from ansible_collections.kubeshift.cilium.tests.unit.plugins.filter.synthetic_facts import make_facts


def results():
    req = cilium_requirements("1.18.12")
    return {
        "n1": cilium_node_verdict(make_facts(hostname="n1"), req),
        "n2": cilium_node_verdict(make_facts(hostname="n2", option_overrides={"CONFIG_SCHEDSTATS": "n"}), req),
    }


def test_registered():
    assert FilterModule().filters() == {"cilium_fleet_report": cilium_fleet_report}


def test_formats():
    data = results()
    report = cilium_fleet_report(data, "1.18.12", format="dict")
    assert report["summary"]["blocking_nodes"] == ["n2"]
    assert json.loads(cilium_fleet_report(data, "1.18.12")) == report
    assert json.loads(cilium_fleet_report(data, "1.18.12", format="json", indent=2)) == report
    assert "| n2 | fail |" in cilium_fleet_report(data, "1.18.12", format="markdown")
    page = cilium_fleet_report(data, "1.18.12", format="html")
    assert "CONFIG_SCHEDSTATS is not set" in page and page.rstrip().endswith("</html>")


@pytest.mark.parametrize("data, version, kwargs, fragment", [
    ({}, "1.18.12", {"format": "pdf"}, "format 'pdf' is not one of dict, json, markdown, html"),
    ({}, "1.18.12", {"indent": "2"}, "indent must be an integer"),
    ([], "1.18.12", {}, "must be a dict of host"),
    ({"n1": {"verdict": "pass"}}, "1.18.12", {}, "node n1"),
    ({}, 1.18, {}, "cilium_version must be a non-empty string"),
])
def test_errors(data, version, kwargs, fragment):
    with pytest.raises(AnsibleFilterError) as err:
        cilium_fleet_report(data, version, **kwargs)
    assert str(err.value).startswith("kubeshift.cilium.cilium_fleet_report: ")
    assert fragment in str(err.value)
