# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kubeshift.cilium.plugins.filter.cilium_requirements import FilterModule, cilium_requirements


def test_registered():
    assert FilterModule().filters() == {"cilium_requirements": cilium_requirements}


def test_default_values():
    req = cilium_requirements("1.19.3")
    assert req["line"] == "1.19" and req["needs"]["btf"] is True
    assert cilium_requirements("1.19.3", None) == req


def test_values_change_groups():
    ids = [g["id"] for g in cilium_requirements("1.18.12", {"bpf": {"masquerade": True}})["groups"]]
    assert "iptables_masquerading" not in ids


@pytest.mark.parametrize("version, values, fragment", [
    ("1.15.3", {}, "unsupported Cilium version '1.15.3'"),
    ("abc", {}, "malformed Cilium version"),
    (1.2, {}, "quote it"),
    ("1.18.12", {"l7Proxy": "maybe"}, "values key l7Proxy"),
    ("1.18.12", "l7Proxy: true", "expected a dict of Helm values"),
])
def test_errors_are_filter_errors(version, values, fragment):
    with pytest.raises(AnsibleFilterError) as err:
        cilium_requirements(version, values)
    assert str(err.value).startswith("kubeshift.cilium.cilium_requirements: ")
    assert fragment in str(err.value)
