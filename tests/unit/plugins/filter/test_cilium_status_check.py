# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kubeshift.cilium.plugins.filter.cilium_status_check import FilterModule, cilium_status_check

FIX = os.path.join(os.path.dirname(__file__), "..", "module_utils", "fixtures", "cluster")


def read(name):
    with open(os.path.join(FIX, name)) as handle:
        return handle.read()


def test_registered():
    assert FilterModule().filters()["cilium_status_check"] is cilium_status_check


def test_expectations_passed_through():
    outputs = {"n1": read("status-kpr-tunnel-ok.txt"), "n2": read("status-kpr-tunnel-ok.json")}
    assert cilium_status_check(outputs, routing="tunnel", host_routing="BPF", tunnel_protocol="vxlan")["ok"] is True
    out = cilium_status_check(outputs, routing="native")
    assert out["ok"] is False
    assert sorted(out["failures"]) == ["node n1: inter-host routing is Tunnel (expected Native)",
                                       "node n2: inter-host routing is Tunnel (expected Native)"]


def test_kpr_false_expected():
    out = cilium_status_check({"n3": read("status-kpr-false.json")}, kpr=False)
    assert out["ok"] is True


def test_missing_node():
    out = cilium_status_check({"n1": read("status-kpr-tunnel-ok.txt")}, expected_nodes=["n1", "n2"])
    assert out["failures"] == ["node n2: no Cilium agent pod"]


def test_bad_input():
    with pytest.raises(AnsibleFilterError, match="^kubeshift.cilium.cilium_status_check: the input must map node names"):
        cilium_status_check(["n1"])
