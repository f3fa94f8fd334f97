# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kubeshift.cilium.plugins.filter.cilium_merge_values import FilterModule, cilium_merge_values


def test_registered():
    assert FilterModule().filters() == {"cilium_merge_values": cilium_merge_values}


def test_files_then_inline_values():
    file_one = {"routingMode": "tunnel", "tunnelPort": 8473, "bpf": {"masquerade": False}, "devices": ["eth0"]}
    file_two = None
    inline = {"bpf": {"masquerade": True}, "devices": ["eth1"]}
    assert cilium_merge_values([file_one, file_two, inline]) == {
        "routingMode": "tunnel", "tunnelPort": 8473, "bpf": {"masquerade": True}, "devices": ["eth1"]}


@pytest.mark.parametrize("layers, fragment", [
    ({"a": 1}, "expected a list of dicts to merge, got dict"),
    ([{}, "routingMode: native"], "item 2 must be a dict"),
])
def test_errors(layers, fragment):
    with pytest.raises(AnsibleFilterError) as err:
        cilium_merge_values(layers)
    assert str(err.value).startswith("kubeshift.cilium.cilium_merge_values: values list: ")
    assert fragment in str(err.value)
