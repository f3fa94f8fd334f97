# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import copy

import pytest

from ansible_collections.kubeshift.cilium.plugins.module_utils._values import (
    CHART_DEFAULTS,
    Values,
    deep_merge,
    lookup,
    to_bool,
    type_name,
)


def test_deep_merge_nested_dicts_and_replaced_lists():
    first = {"bpf": {"masquerade": False, "datapathMode": "veth"}, "devices": ["eth0", "eth1"], "a": 1}
    second = {"bpf": {"masquerade": True}, "devices": ["eth2"], "hubble": {"relay": {"enabled": True}}}
    third = {"a": {"now": "dict"}}
    snapshot = copy.deepcopy([first, second, third])
    merged = deep_merge([first, None, second, third])
    assert merged == {"bpf": {"masquerade": True, "datapathMode": "veth"}, "devices": ["eth2"],
                      "hubble": {"relay": {"enabled": True}}, "a": {"now": "dict"}}
    assert [first, second, third] == snapshot
    merged["devices"].append("x")
    assert second["devices"] == ["eth2"]


def test_deep_merge_later_scalar_replaces_dict():
    assert deep_merge([{"bpf": {"masquerade": True}}, {"bpf": None}]) == {"bpf": None}


def test_deep_merge_empty():
    assert deep_merge([]) == {}
    assert deep_merge([None, {}]) == {}


@pytest.mark.parametrize("layers, fragment", [
    ({"a": 1}, "expected a list of dicts to merge, got dict"),
    ("a: 1", "expected a list of dicts to merge, got string"),
    ([{"a": 1}, ["b"]], "item 2 must be a dict of Helm values (a YAML mapping), got list"),
    ([{"a": 1}, "text"], "item 2 must be a dict"),
])
def test_deep_merge_rejects(layers, fragment):
    with pytest.raises(ValueError) as err:
        deep_merge(layers)
    assert fragment in str(err.value)


def test_lookup():
    values = {"bpf": {"masquerade": True, "nested": {"x": 0}}, "flag": None}
    assert lookup(values, "bpf.masquerade") is True
    assert lookup(values, "bpf.nested.x") == 0
    assert lookup(values, "bpf.missing") is None
    assert lookup(values, "bpf.missing", "d") == "d"
    with pytest.raises(ValueError) as err:
        lookup({"bpf": "yes"}, "bpf.masquerade")
    assert "values key bpf: expected a dict, found string" in str(err.value)


@pytest.mark.parametrize("value, expected", [(True, True), (False, False), ("true", True), ("True", True),
                                             (" false ", False), ("FALSE", False)])
def test_to_bool(value, expected):
    assert to_bool(value, "k") is expected


@pytest.mark.parametrize("value, fragment", [("yes", "found string 'yes'"), (1, "found int"), (None, "found null"),
                                             ([], "found list"), (1.0, "found float")])
def test_to_bool_rejects(value, fragment):
    with pytest.raises(ValueError) as err:
        to_bool(value, "l7Proxy")
    assert "values key l7Proxy: expected bool (true/false), " + fragment in str(err.value)


@pytest.mark.parametrize("value, name", [(True, "bool"), (1, "int"), ("s", "string"), ({}, "dict"), ([], "list"),
                                         (None, "null"), ((1,), "list"), (1.5, "float")])
def test_type_name(value, name):
    assert type_name(value) == name


def test_defaults_apply_when_unset_or_null():
    view = Values({"l7Proxy": None, "hubble": {}}, "1.18")
    assert view.get_bool("l7Proxy") is True
    assert view.get_bool("hubble.enabled") is True
    assert view.get_str("routingMode") == ""
    assert view.get_optional_bool("bpf.masquerade") is None
    assert view.raw("l7Proxy") == (True, False)
    assert Values({"l7Proxy": "false"}, "1.18").raw("l7Proxy") == ("false", True)


@pytest.mark.parametrize("line, expected", [("1.16", False), ("1.17", False), ("1.18", False), ("1.19", False),
                                            ("1.20", False)])
def test_kube_proxy_replacement_default_is_off(line, expected):
    assert Values({}, line).kube_proxy_replacement() is expected


@pytest.mark.parametrize("value, expected", [(True, True), ("true", True), (False, False), ("false", False)])
def test_kube_proxy_replacement_values(value, expected):
    assert Values({"kubeProxyReplacement": value}, "1.18").kube_proxy_replacement() is expected


@pytest.mark.parametrize("value", ["strict", "partial", "probe", "disabled"])
def test_kube_proxy_replacement_legacy_modes(value):
    with pytest.raises(ValueError) as err:
        Values({"kubeProxyReplacement": value}, "1.17").kube_proxy_replacement()
    assert "pre-1.14 mode" in str(err.value) and "Cilium 1.17" in str(err.value)


@pytest.mark.parametrize("value, expected", [(0, 8472), ("", 8472), (None, 8472), (8473, 8473), ("8473", 8473),
                                             ("0", 8472)])
def test_port(value, expected):
    assert Values({"tunnelPort": value}, "1.18").get_port("tunnelPort", 8472) == expected


@pytest.mark.parametrize("value, fragment", [(True, "found bool"), ("x1", "found string 'x1'"), (65536, "outside"),
                                             (-1, "outside"), (1.5, "found float")])
def test_port_rejects(value, fragment):
    with pytest.raises(ValueError) as err:
        Values({"tunnelPort": value}, "1.18").get_port("tunnelPort", 8472)
    assert "values key tunnelPort" in str(err.value) and fragment in str(err.value)


def test_str_choices():
    assert Values({"routingMode": "native"}, "1.19").get_str("routingMode", ("", "tunnel", "native")) == "native"
    with pytest.raises(ValueError) as err:
        Values({"routingMode": "Native"}, "1.19").get_str("routingMode", ("", "tunnel", "native"))
    assert "values key routingMode: 'Native' is not one of '', 'tunnel', 'native'" in str(err.value)


def test_values_constructor_rejects():
    with pytest.raises(ValueError) as err:
        Values("routingMode: native", "1.18")
    assert "expected a dict of Helm values, got string" in str(err.value)
    with pytest.raises(ValueError):
        Values({}, "1.15")


def test_every_line_has_the_same_default_keys():
    keys = set(CHART_DEFAULTS["1.18"])
    for line, defaults in CHART_DEFAULTS.items():
        assert set(defaults) == keys, line
