# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cilium-dbg status parsing. The recorded outputs are reconstructed (see fixtures/cluster/README.md):
no Cilium agent can run in this lab, so the exec path is covered by these outputs only."""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.kubeshift.cilium.plugins.module_utils._cilium_status import (
    StatusParseError,
    check_fleet,
    judge_status,
    parse_status,
    parse_status_json,
    parse_status_text,
)

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "cluster")


def read(name):
    with open(os.path.join(FIX, name)) as handle:
        return handle.read()


def failed(verdict):
    return {c["id"] for c in verdict["checks"] if c["status"] == "fail"}


def test_json_healthy():
    parsed = parse_status_json(read("status-kpr-tunnel-ok.json"), "n2")
    assert parsed["kpr_mode"] == "True"
    assert parsed["inter_host_routing"] == "Tunnel"
    assert parsed["intra_host_routing"] == "BPF"
    assert parsed["tunnel_protocol"] == "vxlan"
    assert parsed["masquerading"] == "BPF"
    assert parsed["kpr_devices"] == ["eth0"] and parsed["direct_routing_device"] == "eth0"
    assert parsed["controllers_total"] == 3 and parsed["controllers_failing"] == []
    assert parsed["subsystems"]["health"]["state"] == "Ok"
    verdict = judge_status(parsed, "n2", {"routing": "tunnel", "host_routing": "BPF", "tunnel_protocol": "vxlan"})
    assert verdict["ok"] is True
    assert failed(verdict) == set()


def test_text_healthy_matches_json():
    text = parse_status_text(read("status-kpr-tunnel-ok.txt"), "n1")
    js = parse_status_json(read("status-kpr-tunnel-ok.json"), "n1")
    for key in ("kpr_mode", "inter_host_routing", "intra_host_routing", "tunnel_protocol", "masquerading",
                "direct_routing_device", "controllers_failing"):
        assert text[key] == js[key], key
    assert text["kpr_devices"] == ["eth0"]
    assert text["controllers_total"] == 31


def test_kpr_false_and_legacy_host_routing():
    verdict = judge_status(parse_status(read("status-kpr-false.json"), "n3"), "n3", {"host_routing": "BPF"})
    assert verdict["ok"] is False
    assert failed(verdict) == {"kube_proxy_replacement", "host_routing"}
    msg = next(c["message"] for c in verdict["checks"] if c["id"] == "kube_proxy_replacement")
    assert msg == "node n3: KubeProxyReplacement is False (expected True)"


def test_host_routing_only_reported_when_not_expected():
    verdict = judge_status(parse_status(read("status-kpr-false.json"), "n3"), "n3", {"kpr": False})
    assert verdict["ok"] is True
    hr = next(c for c in verdict["checks"] if c["id"] == "host_routing")
    assert hr["status"] == "pass" and "Legacy" in hr["message"]


def test_failing_controllers_json():
    parsed = parse_status(read("status-failing-controllers.json"), "n2")
    # ipcache-inject-labels failed before but recovered (consecutive 0): not failing
    assert [c["name"] for c in parsed["controllers_failing"]] == ["sync-to-k8s-ciliumendpoint (1893)"]
    verdict = judge_status(parsed, "n2")
    assert failed(verdict) == {"controllers"}
    health = next(c for c in verdict["checks"] if c["id"] == "subsystem:health")
    assert health["status"] == "warn" and "1/3 nodes unreachable" in health["message"]
    ctrl = next(c for c in verdict["checks"] if c["id"] == "controllers")
    assert "node n2:" in ctrl["message"] and "41 consecutive" in ctrl["message"] and "forbidden" in ctrl["message"]


def test_failing_text():
    parsed = parse_status(read("status-failing.txt"), "n3")
    assert parsed["format"] == "text"
    assert parsed["kpr_mode"] == "False"
    assert parsed["inter_host_routing"] == "Native" and parsed["tunnel_protocol"] is None
    assert parsed["intra_host_routing"] == "Legacy"
    assert [c["name"] for c in parsed["controllers_failing"]] == ["sync-to-k8s-ciliumendpoint (1893)", "cilium-health-ep"]
    assert parsed["controllers_failing"][1]["consecutive_failure_count"] == 7
    verdict = judge_status(parsed, "n3", {"routing": "tunnel"})
    assert failed(verdict) == {"kube_proxy_replacement", "routing", "controllers"}


def test_text_counts_unhealthy_without_table():
    text = read("status-kpr-tunnel-ok.txt").replace("31/31 healthy", "30/31 healthy")
    parsed = parse_status_text(text, "n1")
    assert len(parsed["controllers_failing"]) == 1
    assert "1 controller(s)" in parsed["controllers_failing"][0]["name"]


def test_agent_failure_state():
    verdict = judge_status(parse_status(read("status-native-failure.json"), "n1"), "n1", {"routing": "native"})
    assert failed(verdict) == {"subsystem:cilium"}
    msg = next(c["message"] for c in verdict["checks"] if c["id"] == "subsystem:cilium")
    assert "Failure" in msg and "Kubernetes service is not ready" in msg


def test_fleet():
    outputs = {"n1": read("status-kpr-tunnel-ok.txt"), "n2": read("status-kpr-tunnel-ok.json"),
               "n3": read("status-failing.txt")}
    out = check_fleet(outputs, {"routing": "tunnel"}, expected_nodes=["n1", "n2", "n3", "n4"])
    assert out["ok"] is False
    assert out["nodes"]["n1"]["ok"] and out["nodes"]["n2"]["ok"]
    assert not out["nodes"]["n3"]["ok"]
    assert "node n4: no Cilium agent pod" in out["failures"]
    assert all(f.startswith("node n3:") or f.startswith("node n4:") for f in out["failures"])


def test_fleet_all_good():
    out = check_fleet({"n1": read("status-kpr-tunnel-ok.txt"), "n2": json.loads(read("status-kpr-tunnel-ok.json"))},
                      {"routing": "tunnel", "host_routing": "BPF"}, ["n1", "n2"])
    assert out == {"ok": True, "nodes": out["nodes"], "failures": [], "warnings": []}


def test_fleet_garbage_is_a_node_failure_not_an_exception():
    out = check_fleet({"n1": "error: unable to upgrade connection: container not found (\"cilium-agent\")",
                       "n2": "{not json"})
    assert out["ok"] is False
    assert out["nodes"]["n1"]["checks"][0]["id"] == "parse"
    assert any(f.startswith("node n2: cilium-dbg status output is not JSON") for f in out["failures"])


def test_fleet_empty():
    out = check_fleet({})
    assert out["ok"] is False and out["failures"] == ["no Cilium agent status to check"]


@pytest.mark.parametrize("text, match", [
    ("", "is empty"),
    ('{"foo": 1}', "does not look like cilium-dbg status"),
    ("[1, 2]", "JSON is not an object"),
    ("hello: world", "does not look like cilium-dbg status"),
])
def test_parse_errors(text, match):
    with pytest.raises(StatusParseError, match=match):
        parse_status(text, "nX")


def test_parse_wrong_type():
    with pytest.raises(StatusParseError, match="node nX: cilium-dbg status output must be text"):
        parse_status(42, "nX")


def test_fleet_unreadable_agent():
    out = check_fleet({"n1": {"error": "cannot read the status of cilium-x: dial tcp 10.77.0.11:10250: refused"},
                       "n2": read("status-kpr-tunnel-ok.txt")})
    assert out["failures"] == ["node n1: cannot read the status of cilium-x: dial tcp 10.77.0.11:10250: refused"]
    assert out["nodes"]["n1"]["checks"][0]["id"] == "agent_status"
    assert out["nodes"]["n2"]["ok"] is True
