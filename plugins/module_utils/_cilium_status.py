# -*- coding: utf-8 -*-
# Copyright (c) kubeshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parse and judge ``cilium-dbg status`` output of each Cilium agent.

Private module, no API guarantee. Pure: agent output (JSON from ``cilium-dbg status -o json`` or the text
form) in, one verdict per node out. JSON field names follow Cilium's ``api/v1/models`` StatusResponse:
``kube-proxy-replacement.mode`` (``True``/``False``), ``routing.inter-host-routing-mode`` (``Native``/
``Tunnel``), ``routing.intra-host-routing-mode`` (``BPF``/``Legacy``), ``routing.tunnel-protocol``,
``controllers[].status.consecutive-failure-count``, and the subsystem states (``Ok``/``Warning``/``Failure``/
``Disabled``) of ``cilium``, ``kubernetes``, ``kvstore``, ``cluster.ciliumHealth``, ``hubble``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional

# Subsystems whose state must not be Failure (Disabled is fine: kvstore and hubble are optional).
SUBSYSTEMS = (
    ("cilium", "cilium"),
    ("kubernetes", "kubernetes"),
    ("kvstore", "kvstore"),
    ("health", "cluster.ciliumHealth"),
    ("hubble", "hubble"),
    ("auth-certificate-provider", "auth-certificate-provider"),
)
_TEXT_SUBSYSTEMS = {
    "Cilium": "cilium",
    "Kubernetes": "kubernetes",
    "KVStore": "kvstore",
    "Cilium health daemon": "health",
    "Hubble": "hubble",
}
_STATES = ("Ok", "Warning", "Failure", "Disabled")


class StatusParseError(ValueError):
    """The agent output is neither the JSON nor the text form of ``cilium-dbg status``."""


def _get(doc: Dict[str, Any], dotted: str) -> Any:
    cur: Any = doc
    for part in dotted.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _norm_mode(value: Any) -> Optional[str]:
    if value is None or value == "":
        return None
    text = str(value).strip()
    low = text.lower()
    mapping = {"true": "True", "false": "False", "strict": "Strict", "partial": "Partial", "disabled": "Disabled",
               "tunnel": "Tunnel", "native": "Native", "bpf": "BPF", "legacy": "Legacy"}
    return mapping.get(low, text)


def parse_status_json(text_or_doc: Any, node: str = "?") -> Dict[str, Any]:
    """Normalise ``cilium-dbg status -o json`` into the structure ``judge_status`` reads."""
    if isinstance(text_or_doc, dict):
        doc = text_or_doc
    else:
        try:
            doc = json.loads(text_or_doc)
        except (TypeError, ValueError) as exc:
            raise StatusParseError("node %s: cilium-dbg status output is not JSON: %s" % (node, exc))
    if not isinstance(doc, dict):
        raise StatusParseError("node %s: cilium-dbg status JSON is not an object" % node)
    if not any(k in doc for k in ("cilium", "kube-proxy-replacement", "controllers", "kubernetes")):
        raise StatusParseError("node %s: JSON does not look like cilium-dbg status output (no cilium, "
                               "kubernetes, controllers or kube-proxy-replacement key)" % node)
    subsystems = {}
    for name, path in SUBSYSTEMS:
        sub = _get(doc, path)
        if isinstance(sub, dict) and sub.get("state"):
            subsystems[name] = {"state": str(sub.get("state")), "msg": str(sub.get("msg") or "")}
    kpr = doc.get("kube-proxy-replacement") or {}
    routing = doc.get("routing") or {}
    controllers = []
    for ctrl in doc.get("controllers") or []:
        if not isinstance(ctrl, dict):
            continue
        status = ctrl.get("status") or {}
        controllers.append({
            "name": ctrl.get("name") or "?",
            "failure_count": int(status.get("failure-count") or 0),
            "consecutive_failure_count": int(status.get("consecutive-failure-count") or 0),
            "last_failure_msg": status.get("last-failure-msg") or "",
        })
    devices = [d.get("name") for d in kpr.get("deviceList") or [] if isinstance(d, dict) and d.get("name")]
    if not devices:
        devices = [str(d) for d in kpr.get("devices") or [] if isinstance(d, str)]
    return {
        "format": "json",
        "kpr_mode": _norm_mode(kpr.get("mode")),
        "kpr_devices": devices,
        "direct_routing_device": kpr.get("directRoutingDevice"),
        "inter_host_routing": _norm_mode(routing.get("inter-host-routing-mode")),
        "intra_host_routing": _norm_mode(routing.get("intra-host-routing-mode")),
        "tunnel_protocol": (str(routing.get("tunnel-protocol")).lower() if routing.get("tunnel-protocol") else None),
        "masquerading": (doc.get("masquerading") or {}).get("mode") if (doc.get("masquerading") or {}).get("enabled")
        else ("Disabled" if doc.get("masquerading") else None),
        "subsystems": subsystems,
        "controllers_total": len(controllers),
        "controllers_failing": [c for c in controllers if c["consecutive_failure_count"] > 0],
        "cni_chaining": (doc.get("cni-chaining") or {}).get("mode"),
    }


_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9 /()-]*?):\s+(.*)$")
_CONTROLLER_ROW = re.compile(r"^\s+(\S.*?)\s{2,}(\S.*?ago|never)\s{2,}(\S.*?ago|never)\s{2,}(\d+)\s{2,}(.*)$")


def parse_status_text(text: str, node: str = "?") -> Dict[str, Any]:
    """Normalise the text form of ``cilium-dbg status`` (same keys as ``parse_status_json``)."""
    if not isinstance(text, str) or not text.strip():
        raise StatusParseError("node %s: cilium-dbg status output is empty" % node)
    fields: Dict[str, str] = {}
    failing: List[Dict[str, Any]] = []
    in_controllers = False
    for raw in text.splitlines():
        if in_controllers:
            row = _CONTROLLER_ROW.match(raw)
            if row:
                failing.append({"name": row.group(1).strip(), "failure_count": int(row.group(4)),
                                "consecutive_failure_count": int(row.group(4)),
                                "last_failure_msg": row.group(5).strip()})
                continue
            if raw.startswith(" ") or raw.startswith("\t"):
                continue
            in_controllers = False
        m = _LINE.match(raw)
        if not m:
            continue
        key, value = m.group(1).strip(), m.group(2).strip()
        fields.setdefault(key, value)
        if key == "Controller Status":
            in_controllers = True
    if "KubeProxyReplacement" not in fields and "Cilium" not in fields:
        first = text.strip().splitlines()[0][:200]
        raise StatusParseError("node %s: text does not look like cilium-dbg status output "
                               "(no 'Cilium:' or 'KubeProxyReplacement:' line): %s" % (node, first))
    subsystems = {}
    for label, name in _TEXT_SUBSYSTEMS.items():
        value = fields.get(label)
        if value:
            state = value.split()[0]
            if state in _STATES:
                subsystems[name] = {"state": state, "msg": value[len(state):].strip()}
    kpr_line = fields.get("KubeProxyReplacement", "")
    kpr_mode = _norm_mode(kpr_line.split()[0]) if kpr_line else None
    devices = []
    direct_dev = None
    bracket = re.search(r"\[(.*)\]", kpr_line)
    for entry in (bracket.group(1).split(",") if bracket else []):
        words = entry.split()
        if words:
            devices.append(words[0])
            if "(Direct Routing)" in entry:
                direct_dev = words[0]
    routing = fields.get("Routing", "")
    net = re.search(r"Network:\s*(\w+)(?:\s*\[(\w+)\])?", routing)
    host = re.search(r"Host:\s*(\w+)", routing)
    total = None
    ctrl = re.match(r"(\d+)/(\d+)\s+healthy", fields.get("Controller Status", ""))
    if ctrl:
        total = int(ctrl.group(2))
        unhealthy = total - int(ctrl.group(1))
        if unhealthy and not failing:
            failing = [{"name": "(%d controller(s), names not shown)" % unhealthy, "failure_count": unhealthy,
                        "consecutive_failure_count": unhealthy, "last_failure_msg": ""}]
    masq = fields.get("Masquerading", "")
    return {
        "format": "text",
        "kpr_mode": kpr_mode,
        "kpr_devices": devices,
        "direct_routing_device": direct_dev,
        "inter_host_routing": _norm_mode(net.group(1)) if net else None,
        "intra_host_routing": _norm_mode(host.group(1)) if host else None,
        "tunnel_protocol": net.group(2).lower() if net and net.group(2) else None,
        "masquerading": masq.split()[0] if masq else None,
        "subsystems": subsystems,
        "controllers_total": total,
        "controllers_failing": failing,
        "cni_chaining": fields.get("CNI Chaining"),
    }


def parse_status(output: Any, node: str = "?") -> Dict[str, Any]:
    """JSON or text, whichever the output is."""
    if isinstance(output, dict):
        return parse_status_json(output, node)
    if not isinstance(output, str):
        raise StatusParseError("node %s: cilium-dbg status output must be text, got %s" % (node, type(output).__name__))
    if output.lstrip()[:1] in ("{", "["):
        return parse_status_json(output, node)
    return parse_status_text(output, node)


def judge_status(parsed: Dict[str, Any], node: str = "?", expect: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """One node's verdict: ``{node, ok, checks: [{id, status, message}], summary}``.

    ``expect`` keys (all optional): ``kpr`` (default ``True``), ``routing`` (``tunnel``/``native``),
    ``host_routing`` (``BPF``/``Legacy``), ``tunnel_protocol`` (``vxlan``/``geneve``).
    """
    exp = {"kpr": True}
    exp.update(expect or {})
    checks: List[Dict[str, str]] = []

    def add(cid: str, ok: Optional[bool], message: str) -> None:
        checks.append({"id": cid, "status": "pass" if ok else ("warn" if ok is None else "fail"),
                       "message": "node %s: %s" % (node, message)})

    want_kpr = "True" if exp.get("kpr") in (True, "True", "true") else "False"
    mode = parsed.get("kpr_mode")
    add("kube_proxy_replacement", mode == want_kpr,
        "KubeProxyReplacement is %s (expected %s)" % (mode or "not reported", want_kpr))

    inter = parsed.get("inter_host_routing")
    intra = parsed.get("intra_host_routing")
    if exp.get("routing"):
        want = _norm_mode(exp["routing"])
        add("routing", inter == want, "inter-host routing is %s (expected %s)" % (inter or "not reported", want))
    else:
        add("routing", True if inter else None, "inter-host routing is %s" % (inter or "not reported"))
    if exp.get("host_routing"):
        want = _norm_mode(exp["host_routing"])
        add("host_routing", intra == want, "host routing is %s (expected %s)" % (intra or "not reported", want))
    else:
        add("host_routing", True if intra else None, "host routing mode reported: %s" % (intra or "none"))
    if exp.get("tunnel_protocol") and inter == "Tunnel":
        want = str(exp["tunnel_protocol"]).lower()
        proto = parsed.get("tunnel_protocol")
        add("tunnel_protocol", proto == want, "tunnel protocol is %s (expected %s)" % (proto or "not reported", want))

    failing = parsed.get("controllers_failing") or []
    if failing:
        parts = []
        for ctrl in failing:
            detail = (": " + ctrl["last_failure_msg"]) if ctrl["last_failure_msg"] else ""
            parts.append("%s (%d consecutive failure(s)%s)" % (ctrl["name"], ctrl["consecutive_failure_count"], detail))
        names = ", ".join(parts)
        add("controllers", False, "%d failing controller(s): %s" % (len(failing), names))
    else:
        total = parsed.get("controllers_total")
        add("controllers", True, "all %s controllers healthy" % (total if total is not None else "reported"))

    subs = parsed.get("subsystems") or {}
    for name in ("cilium", "kubernetes", "health", "kvstore", "hubble", "auth-certificate-provider"):
        sub = subs.get(name)
        if not sub:
            if name in ("cilium", "kubernetes"):
                add("subsystem:" + name, False, "%s state not reported" % name)
            continue
        state = sub["state"]
        ok: Optional[bool] = True if state in ("Ok", "Disabled") else (None if state == "Warning" else False)
        detail = (" (" + sub["msg"] + ")") if sub["msg"] and state not in ("Ok", "Disabled") else ""
        add("subsystem:" + name, ok, "%s is %s%s" % (name, state, detail))
    ok = all(c["status"] != "fail" for c in checks)
    return {
        "node": node,
        "ok": ok,
        "checks": checks,
        "summary": {"kpr_mode": mode, "inter_host_routing": inter, "intra_host_routing": intra,
                    "tunnel_protocol": parsed.get("tunnel_protocol"), "controllers_failing": len(failing)},
    }


def check_fleet(outputs: Dict[str, Any], expect: Optional[Dict[str, Any]] = None,
                expected_nodes: Optional[List[str]] = None) -> Dict[str, Any]:
    """Judge every agent: ``outputs`` maps node name -> raw ``cilium-dbg status`` output (text/JSON/dict), or
    ``{"error": "why it could not be read"}``.

    Unparsable output is a failure of that node (``check: parse``), not an exception.
    ``expected_nodes`` adds a failure for every node with no agent output.
    """
    if not isinstance(outputs, dict):
        raise StatusParseError("expected a mapping of node name to cilium-dbg status output, got %s"
                               % type(outputs).__name__)
    nodes: Dict[str, Any] = {}
    failures: List[str] = []
    warnings: List[str] = []
    for node in sorted(outputs):
        output = outputs[node]
        if isinstance(output, dict) and set(output) == {"error"}:
            # The caller could not read this agent at all (pod not running, exec refused, ...).
            message = "node %s: %s" % (node, output["error"])
            check = {"id": "agent_status", "status": "fail", "message": message}
            nodes[node] = {"node": node, "ok": False, "checks": [check], "summary": {}}
            failures.append(message)
            continue
        try:
            parsed = parse_status(outputs[node], node)
        except StatusParseError as exc:
            check = {"id": "parse", "status": "fail", "message": str(exc)}
            nodes[node] = {"node": node, "ok": False, "checks": [check], "summary": {}}
            failures.append(str(exc))
            continue
        verdict = judge_status(parsed, node, expect)
        nodes[node] = verdict
        failures.extend(c["message"] for c in verdict["checks"] if c["status"] == "fail")
        warnings.extend(c["message"] for c in verdict["checks"] if c["status"] == "warn")
    for node in expected_nodes or []:
        if node not in outputs:
            check = {"id": "agent", "status": "fail", "message": "node %s: no Cilium agent pod" % node}
            nodes[node] = {"node": node, "ok": False, "checks": [check], "summary": {}}
            failures.append("node %s: no Cilium agent pod" % node)
    if not nodes:
        failures.append("no Cilium agent status to check")
    return {"ok": not failures, "nodes": nodes, "failures": failures, "warnings": warnings}
