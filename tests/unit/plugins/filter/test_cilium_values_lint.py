# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import os
import tarfile

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kubeshift.cilium.plugins.filter.cilium_values_lint import FilterModule, cilium_values_lint

CHART = os.path.join(os.environ.get("KUBESHIFT_CHARTS", "/work/shared/charts"), "cilium-1.19.6.tgz")


@pytest.fixture(scope="module")
def values_yaml():
    if not os.path.exists(CHART):
        pytest.skip("chart %s not found (set KUBESHIFT_CHARTS)" % CHART)
    with tarfile.open(CHART) as tar:
        return tar.extractfile("cilium/values.yaml").read().decode("utf-8")


def test_registered():
    assert FilterModule().filters()["cilium_values_lint"] is cilium_values_lint


def test_report(values_yaml):
    out = cilium_values_lint({"nodePort": {"enabled": True}, "routingMode": "tunnel"}, values_yaml, "1.19.6")
    assert out["ok"] is False
    assert [f["key"] for f in out["findings"]] == ["nodePort.enabled"]
    assert out["line"] == "1.19"


def test_ignore(values_yaml):
    out = cilium_values_lint({"nodePort": {"enabled": True}}, values_yaml, "1.19.6", ignore=["nodePort.enabled"])
    assert out["ok"] is True


def test_none_values_is_empty(values_yaml):
    assert cilium_values_lint(None, values_yaml, "1.19.6")["ok"] is True


def test_errors(values_yaml):
    with pytest.raises(AnsibleFilterError, match=r"^kubeshift.cilium.cilium_values_lint: the input must be a mapping"):
        cilium_values_lint("routingMode: native", values_yaml, "1.19.6")
    with pytest.raises(AnsibleFilterError, match="values_yaml must be the text"):
        cilium_values_lint({}, None, "1.19.6")
    with pytest.raises(AnsibleFilterError, match="Cilium version 'main' is not X.Y.Z"):
        cilium_values_lint({}, values_yaml, "main")
    with pytest.raises(AnsibleFilterError, match="values.yaml of the Cilium 1.19.6 chart is not valid YAML"):
        cilium_values_lint({}, "a: [", "1.19.6")
