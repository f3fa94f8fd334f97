# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import os
import tarfile

import pytest
import yaml

from ansible_collections.kubeshift.cilium.plugins.module_utils._values_lint import (
    REMOVED_KEYS,
    ValuesLintError,
    chart_line,
    known_keys,
    lint_values,
)

CHARTS_DIR = os.environ.get("KUBESHIFT_CHARTS", "/work/shared/charts")
VERSIONS = ["1.16.19", "1.17.5", "1.18.12", "1.19.6", "1.20.0"]
_CACHE = {}


def chart_values(version):
    if version not in _CACHE:
        path = os.path.join(CHARTS_DIR, "cilium-%s.tgz" % version)
        if not os.path.exists(path):
            pytest.skip("Cilium chart %s not found (set KUBESHIFT_CHARTS to the directory of the chart .tgz files)" % path)
        with tarfile.open(path) as tar:
            _CACHE[version] = tar.extractfile("cilium/values.yaml").read().decode("utf-8")
    return _CACHE[version]


def kinds(report):
    return {f["key"]: f["kind"] for f in report["findings"]}


def flat(doc, prefix=()):
    out = set()
    for key, value in doc.items():
        path = prefix + (str(key),)
        if isinstance(value, dict) and value:
            out |= flat(value, path)
        else:
            out.add(".".join(path))
    return out


# --------------------------------------------------------------- version table verified on the charts

@pytest.mark.parametrize("old, new", list(zip(VERSIONS, VERSIONS[1:])))
def test_removed_table_matches_chart_diff(old, new):
    """Every key that disappears between two consecutive charts is in REMOVED_KEYS with the right line."""
    before = set(known_keys(chart_values(old)))
    after = set(known_keys(chart_values(new)))
    line = chart_line(new)
    gone = sorted(".".join(p) for p in before - after)
    top = [k for k in gone if not any(k.startswith(other + ".") for other in gone)]
    assert top, "expected some removals between %s and %s" % (old, new)
    for key in top:
        assert key in REMOVED_KEYS, "%s disappears in %s but is not in REMOVED_KEYS" % (key, new)
        assert REMOVED_KEYS[key][0] == line, "%s: table says %s, charts say %s" % (key, REMOVED_KEYS[key][0], line)
    listed = sorted(k for k, v in REMOVED_KEYS.items() if v[0] == line)
    assert listed == sorted(top), "REMOVED_KEYS lists keys for %s that the charts do not remove" % line


def test_flat_diff_sees_the_documented_removals():
    """Independent of known_keys: the plain flattened values.yaml agrees on the headline removals."""
    flats = {v: flat(yaml.safe_load(chart_values(v))) for v in VERSIONS}
    assert "externalIPs.enabled" in flats["1.17.5"] and "externalIPs.enabled" not in flats["1.18.12"]
    assert "nodePort.enabled" in flats["1.18.12"] and "nodePort.enabled" not in flats["1.19.6"]


# --------------------------------------------------------------- the issue's examples, on every chart

@pytest.mark.parametrize("version", VERSIONS)
def test_schema_blind_spots_are_caught(version):
    report = lint_values({"routingMode": "bogus", "ipam": {"mode": "nonsense"}, "kubeProxyReplacment": True},
                         chart_values(version), version)
    assert report["ok"] is False
    found = kinds(report)
    assert found == {"routingMode": "invalid_value", "ipam.mode": "invalid_value", "kubeProxyReplacment": "unknown"}
    typo = next(f for f in report["findings"] if f["key"] == "kubeProxyReplacment")
    assert typo["suggestion"] == "kubeProxyReplacement"
    assert "did you mean kubeProxyReplacement?" in typo["message"]


@pytest.mark.parametrize("version, expected", [
    ("1.16.19", {}),
    ("1.17.5", {}),
    ("1.18.12", {"externalIPs.enabled": "removed"}),
    ("1.19.6", {"externalIPs.enabled": "removed", "nodePort.enabled": "removed"}),
    ("1.20.0", {"externalIPs.enabled": "removed", "nodePort.enabled": "removed"}),
])
def test_removed_keys_per_version(version, expected):
    report = lint_values({"externalIPs": {"enabled": True}, "nodePort": {"enabled": True}},
                         chart_values(version), version)
    assert kinds(report) == expected
    for finding in report["findings"]:
        assert "was removed in Cilium 1.1" in finding["message"]


@pytest.mark.parametrize("version", VERSIONS)
def test_typical_kpr_values_are_clean(version):
    values = {
        "kubeProxyReplacement": True, "k8sServiceHost": "cp.lab.example", "k8sServicePort": 6443,
        "routingMode": "native", "ipv4NativeRoutingCIDR": "10.244.0.0/16", "autoDirectNodeRoutes": True,
        "ipam": {"mode": "kubernetes", "operator": {"clusterPoolIPv4PodCIDRList": ["10.244.0.0/16"]}},
        "bpf": {"masquerade": True, "hostLegacyRouting": False, "datapathMode": "veth"},
        "socketLB": {"hostNamespaceOnly": True},  # documented but commented out in every chart
        "loadBalancer": {"mode": "dsr", "algorithm": "maglev", "dsrDispatch": "opt"},  # commented out too
        "cni": {"exclusive": True}, "operator": {"replicas": 1, "nodeSelector": {"kubernetes.io/os": "linux"}},
        "podAnnotations": {"example.com/anything": "goes"}, "resources": {"limits": {"cpu": "2"}},
        "encryption": {"enabled": False, "type": "wireguard"}, "tunnelProtocol": "", "tunnelPort": 8473,
        "hubble": {"enabled": True, "relay": {"enabled": True}, "tls": {"auto": {"method": "cronJob"}}},
        "policyEnforcementMode": "never", "k8s": {"apiServerURLs": "https://a:6443 https://b:6443"},
    }
    report = lint_values(values, chart_values(version), version)
    assert report["findings"] == []
    assert report["ok"] is True


@pytest.mark.parametrize("version, value, ok", [
    ("1.16.19", "lb-only", True),
    ("1.18.12", "lb-only", False),
    ("1.20.0", "auto", True),
    ("1.19.6", "auto", False),
    ("1.20.0", "netkit", True),
])
def test_datapath_mode_enum_per_line(version, value, ok):
    report = lint_values({"bpf": {"datapathMode": value}}, chart_values(version), version)
    assert report["ok"] is ok


@pytest.mark.parametrize("version, ok", [("1.18.12", False), ("1.19.6", True), ("1.20.0", True)])
def test_ztunnel_encryption_from_119(version, ok):
    assert lint_values({"encryption": {"type": "ztunnel"}}, chart_values(version), version)["ok"] is ok


@pytest.mark.parametrize("value, ok", [(True, True), (False, True), ("true", True), ("false", True),
                                       ("strict", False), ("partial", False), (1, False)])
def test_kube_proxy_replacement_values(value, ok):
    assert lint_values({"kubeProxyReplacement": value}, chart_values("1.18.12"), "1.18.12")["ok"] is ok


def test_string_for_boolean_key():
    report = lint_values({"bpf": {"masquerade": "false"}, "autoDirectNodeRoutes": "true"},
                         chart_values("1.18.12"), "1.18.12")
    assert kinds(report) == {"bpf.masquerade": "invalid_type", "autoDirectNodeRoutes": "invalid_type"}
    assert report["findings"][0]["suggestion"] == "bpf.masquerade=false"


def test_wrong_level_suggestion():
    report = lint_values({"masquerade": True, "hostLegacyRouting": True}, chart_values("1.18.12"), "1.18.12")
    sugg = {f["key"]: f["suggestion"] for f in report["findings"]}
    assert sugg == {"masquerade": "bpf.masquerade", "hostLegacyRouting": "bpf.hostLegacyRouting"}


def test_nested_typo_and_case():
    report = lint_values({"ipam": {"operater": {}}, "RoutingMode": "tunnel", "loadBalancer": {"algoritm": "maglev"}},
                         chart_values("1.19.6"), "1.19.6")
    sugg = {f["key"]: f["suggestion"] for f in report["findings"]}
    assert sugg == {"ipam.operater": "ipam.operator", "RoutingMode": "routingMode",
                    "loadBalancer.algoritm": "loadBalancer.algorithm"}


def test_enum_suggestion():
    report = lint_values({"routingMode": "Native"}, chart_values("1.18.12"), "1.18.12")
    assert report["findings"][0]["suggestion"] == "routingMode=native"


def test_scalar_where_mapping_expected():
    report = lint_values({"ipam": "kubernetes"}, chart_values("1.18.12"), "1.18.12")
    assert kinds(report) == {"ipam": "invalid_type"}


def test_ignore_list():
    values = {"myCompany": {"x": 1}, "routingMode": "bogus"}
    report = lint_values(values, chart_values("1.18.12"), "1.18.12", ignore=["myCompany"])
    assert kinds(report) == {"routingMode": "invalid_value"}


def test_old_tunnel_key():
    report = lint_values({"tunnel": "vxlan"}, chart_values("1.16.19"), "1.16.19")
    assert kinds(report) == {"tunnel": "removed"}
    assert "routingMode + tunnelProtocol" in report["findings"][0]["message"]


def test_commented_keys_found_in_every_chart():
    for version in VERSIONS:
        index = known_keys(chart_values(version))
        assert index[("socketLB", "hostNamespaceOnly")]["node"] == "commented"
        assert ("loadBalancer", "mode") in index
        # JSON-schema hints between "# @schema" markers are not keys
        assert ("bpf", "maximum") not in index and ("bpf", "minimum") not in index
    assert known_keys(chart_values("1.16.19"))[("kubeProxyReplacement",)]["node"] == "commented"
    assert known_keys(chart_values("1.18.12"))[("kubeProxyReplacement",)]["node"] == "leaf"


@pytest.mark.parametrize("text, match", [("", "is empty"), ("a: [", "not valid YAML"), ("- 1\n", "not a YAML mapping")])
def test_bad_chart_values(text, match):
    with pytest.raises(ValuesLintError, match=match):
        lint_values({}, text, "1.18.12")


@pytest.mark.parametrize("version", ["1.18", "latest", "", None])
def test_bad_version(version):
    if version == "1.18":
        assert chart_line(version) == "1.18"
        return
    with pytest.raises(ValuesLintError, match="is not X.Y.Z"):
        lint_values({}, chart_values("1.18.12"), version)


def test_values_not_a_mapping():
    with pytest.raises(ValuesLintError, match="must be a mapping"):
        lint_values(["a"], chart_values("1.18.12"), "1.18.12")
