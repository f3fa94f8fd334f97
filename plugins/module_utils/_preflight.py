# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE to the kubeshift.cilium collection: no API guarantee, may change at any time.
"""Preflight decisions: what a Cilium version plus Helm values require, and how one node measures up.

Pure functions, no I/O. Every error is a ``ValueError`` whose message names the input (version, values key,
or node) and the problem.

Decisions documented here (and in the filters' docs):

* Versions: ``X.Y``, ``X.Y.Z``, an optional leading ``v`` and a pre-release suffix (``1.19.0-pre.3``) are
  accepted for the supported lines. A bare line (``1.19``) means "any patch of it", so patch-level rules
  apply (the strict reading). Pre-release suffixes are ignored when comparing with patch rules.
* A check's status is ``pass``, ``warn``, ``fail``, ``unknown`` (could not be decided from the facts) or
  ``skipped`` (does not apply, e.g. an option that vanished from Kconfig on this kernel).
* Node verdict = worst status with the order fail > unknown > warn > pass; ``skipped`` does not count.
  An unreadable kernel config therefore makes the node ``unknown``, never ``pass``.
* Fleet verdict = worst node verdict with the same order; ``summary.ok`` is true only when no node is
  ``fail`` or ``unknown``.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.kubeshift.cilium.plugins.module_utils._cilium_matrix import (
    ARCHITECTURES,
    FEATURE_TRIGGERS,
    FEATURES,
    GROUPS,
    KERNEL_FLOORS,
    MODULES,
    PATCH_RULES,
    PORTS,
    SUPPORTED_LINES,
)
from ansible_collections.kubeshift.cilium.plugins.module_utils._values import Values, to_bool, type_name

REQUIREMENTS_SCHEMA = 1
STATUSES = ("pass", "warn", "fail", "unknown", "skipped")
VERDICTS = ("pass", "warn", "fail", "unknown")
_RANK = {"skipped": -1, "pass": 0, "warn": 1, "unknown": 2, "fail": 3}

_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-([0-9A-Za-z][0-9A-Za-z.-]*))?$")
_DISTRO_VERSION_RE = re.compile(r"^(\d+)(?:\.(\d+))?")


# --------------------------------------------------------------------------------------------- versions

def parse_version(version: Any) -> Dict[str, Any]:
    """Parse a Cilium version string into ``{version, line, parts, patch_known, prerelease}``."""
    supported = ", ".join(SUPPORTED_LINES)
    if not isinstance(version, str):
        hint = ""
        if isinstance(version, float):
            hint = " (YAML read an unquoted version as a number: quote it, e.g. \"1.18.12\")"
        raise ValueError(
            "Cilium version must be a string such as \"1.18.12\", got %s %r%s; supported lines: %s"
            % (type_name(version), version, hint, supported)
        )
    text = version.strip()
    match = _VERSION_RE.match(text)
    if not match:
        raise ValueError(
            "malformed Cilium version %r: expected X.Y or X.Y.Z (optionally v-prefixed, with a -pre/-rc "
            "suffix); supported lines: %s" % (version, supported)
        )
    major, minor, patch, pre = match.groups()
    line = "%d.%d" % (int(major), int(minor))
    if line not in SUPPORTED_LINES:
        raise ValueError(
            "unsupported Cilium version %r (line %s); supported lines: %s" % (version, line, supported)
        )
    patch_known = patch is not None
    parts = [int(major), int(minor), int(patch) if patch_known else 0]
    normalised = "%d.%d.%d" % tuple(parts) if patch_known else line
    if pre:
        normalised += "-" + pre
    return {"version": normalised, "line": line, "parts": parts, "patch_known": patch_known, "prerelease": pre}


# ------------------------------------------------------------------------------------------ requirements

def _settings(values: Values) -> Dict[str, Any]:
    """Read the Helm values that drive the requirements, applying chart defaults and validating types."""
    routing = values.get_str("routingMode", ("", "tunnel", "native")) or "tunnel"
    protocol = values.get_str("tunnelProtocol", ("", "vxlan", "geneve")) or "vxlan"
    encryption = values.get_bool("encryption.enabled")
    enc_type = values.get_str("encryption.type", ("ipsec", "wireguard", "ztunnel"))
    ipv4_masq = values.get_optional_bool("enableIPv4Masquerade")
    kpr = values.kube_proxy_replacement()
    lb_mode = values.get_str("loadBalancer.mode", ("snat", "dsr", "hybrid", "annotation"))
    dispatch = values.get_str("loadBalancer.dsrDispatch", ("opt", "geneve", "ipip"))
    extra = values.get_dict("extraConfig")
    multicast = extra.get("multicast-enabled", False)
    multicast_on = False if multicast is None else to_bool(multicast, "extraConfig.multicast-enabled")
    hubble_metrics = values.get_list_or_none("hubble.metrics.enabled")
    settings = {
        "kube_proxy_replacement": kpr,
        "routing_mode": routing,
        "tunnel_protocol": protocol if routing == "tunnel" else None,
        "bpf_masquerade": bool(values.get_optional_bool("bpf.masquerade")),
        "ipv4_masquerade": True if ipv4_masq is None else ipv4_masq,
        "l7_proxy": values.get_bool("l7Proxy"),
        "encryption": enc_type if encryption else None,
        "bandwidth_manager": values.get_bool("bandwidthManager.enabled"),
        "bbr": values.get_bool("bandwidthManager.bbr"),
        "datapath_mode": values.get_str("bpf.datapathMode", ("veth", "netkit", "netkit-l2")),
        "ipv4_big_tcp": values.get_bool("enableIPv4BIGTCP"),
        "ipv6_big_tcp": values.get_bool("enableIPv6BIGTCP"),
        "socket_lb": kpr or values.get_bool("socketLB.enabled"),
        "socket_lb_hostns_only": values.get_bool("socketLB.hostNamespaceOnly"),
        "bpf_tproxy": bool(values.get_optional_bool("bpf.tproxy")),
        "host_legacy_routing": values.get_optional_bool("bpf.hostLegacyRouting"),
        "dsr_geneve": lb_mode in ("dsr", "hybrid", "annotation") and dispatch == "geneve",
        "multicast": multicast_on,
        "bpffs_automount": values.get_bool("bpf.autoMount.enabled"),
        "cgroup_automount": values.get_bool("cgroup.autoMount.enabled"),
        "hubble": values.get_bool("hubble.enabled"),
        "hubble_relay": values.get_bool("hubble.enabled") and values.get_bool("hubble.relay.enabled"),
        "hubble_metrics": bool(values.get_bool("hubble.enabled") and hubble_metrics),
        "agent_metrics": values.get_bool("prometheus.enabled"),
        "operator_metrics": values.get_bool("operator.prometheus.enabled"),
        "envoy_metrics": values.get_bool("l7Proxy") and values.get_bool("envoy.prometheus.enabled"),
    }
    settings["tunnel_vxlan"] = settings["tunnel_protocol"] == "vxlan"
    settings["tunnel_geneve"] = settings["tunnel_protocol"] == "geneve"
    settings["wireguard"] = settings["encryption"] == "wireguard"
    return settings


def _group_reason(group_id: str, s: Dict[str, Any]) -> Optional[str]:
    """Why a group is needed with these settings, or None when it is not."""
    if group_id == "base":
        return "always"
    if group_id == "iptables_masquerading":
        if s["ipv4_masquerade"] and not s["bpf_masquerade"]:
            return "bpf.masquerade=false (masquerading through iptables)"
        return None
    if group_id == "tunneling":
        if s["routing_mode"] == "tunnel":
            return "routingMode=tunnel, tunnelProtocol=%s" % s["tunnel_protocol"]
        return "routingMode=native (policy routing)"
    if group_id == "l7_proxy":
        return "l7Proxy=true" if s["l7_proxy"] else None
    if group_id == "ipsec":
        return "encryption.enabled=true, encryption.type=ipsec" if s["encryption"] == "ipsec" else None
    if group_id == "wireguard":
        return "encryption.enabled=true, encryption.type=wireguard" if s["wireguard"] else None
    if group_id == "bandwidth_manager":
        return "bandwidthManager.enabled=true" if s["bandwidth_manager"] else None
    if group_id == "netkit":
        return "bpf.datapathMode=%s" % s["datapath_mode"] if s["datapath_mode"] != "veth" else None
    if group_id == "socket_lb":
        if s["kube_proxy_replacement"]:
            return "kubeProxyReplacement=true (socket-LB)"
        return "socketLB.enabled=true" if s["socket_lb"] else None
    return None


def _option_wanted(option: Dict[str, Any], s: Dict[str, Any]) -> bool:
    when = option.get("when")
    if when is None:
        return True
    if when == "vxlan":
        return bool(s["tunnel_vxlan"])
    if when == "geneve":
        return bool(s["tunnel_geneve"] or s["dsr_geneve"])
    raise ValueError("matrix: option %s has an unknown 'when' tag %r" % (option["name"], when))


def _feature_reason(trigger: str, s: Dict[str, Any]) -> Optional[str]:
    on = {
        "wireguard": s["wireguard"],
        "kube_proxy_replacement": s["kube_proxy_replacement"],
        "bpf_tproxy": s["bpf_tproxy"],
        "socket_lb_hostns_only": s["socket_lb_hostns_only"],
        "bpf_host_routing": s["host_legacy_routing"] is False,
        "multicast": s["multicast"],
        "bbr": s["bandwidth_manager"] and s["bbr"],
        "ipv6_big_tcp": s["ipv6_big_tcp"],
        "ipv4_big_tcp": s["ipv4_big_tcp"],
        "netkit": s["datapath_mode"] != "veth",
    }
    if trigger not in on:
        raise ValueError("matrix: feature trigger %r has no decision" % trigger)
    return FEATURE_TRIGGERS[trigger] if on[trigger] else None


def _patch_applies(rule: Dict[str, Any], parsed: Dict[str, Any]) -> bool:
    if rule["line"] != parsed["line"]:
        return False
    if not parsed["patch_known"]:
        return True
    return parsed["parts"] >= list(rule["from"])


def requirements(version: Any, values: Any = None) -> Dict[str, Any]:
    """Return what Cilium ``version`` installed with Helm ``values`` needs from every node.

    Shape: see "Contract: requirements" in docs/development.md.
    """
    parsed = parse_version(version)
    line = parsed["line"]
    view = Values(values, line)
    s = _settings(view)

    patch_groups = {}  # type: Dict[str, str]
    for rule in PATCH_RULES:
        if _patch_applies(rule, parsed):
            patch_groups[rule["group"]] = rule["reason"]

    groups = []  # type: List[Dict[str, Any]]
    seen = set()  # type: set
    modules = []  # type: List[str]
    for group in GROUPS:
        reason = patch_groups.get(group["id"]) if group["id"] == "btf" else _group_reason(group["id"], s)
        if reason is None:
            continue
        options = []
        for option in group["options"]:
            if option["name"] in seen or not _option_wanted(option, s):
                continue
            seen.add(option["name"])
            entry = {"name": option["name"], "type": option["type"], "severity": option["severity"]}
            if option.get("below_kernel"):
                entry["below_kernel"] = list(option["below_kernel"])
            if option.get("note"):
                entry["note"] = option["note"]
            options.append(entry)
            module = MODULES.get(option["name"])
            if option["type"] == "tristate" and module and module not in modules:
                modules.append(module)
        groups.append({"id": group["id"], "title": group["title"], "reason": reason, "options": options})

    features = []
    for feature in FEATURES:
        if line not in feature["lines"]:
            continue
        reason = _feature_reason(feature["trigger"], s)
        if reason is None:
            continue
        entry = {
            "id": feature["id"],
            "title": feature["title"],
            "min_kernel": list(feature["min_kernel"]),
            "severity": feature["severity"],
            "reason": reason,
            "group": feature.get("group"),
        }
        if feature.get("min_kernel_by_arch"):
            entry["min_kernel_by_arch"] = dict((k, list(v)) for k, v in feature["min_kernel_by_arch"].items())
        features.append(entry)

    ports = []
    for port in PORTS:
        if port["when"] != "always" and not s[port["when"]]:
            continue
        number = port["port"] if "port" in port else view.get_port(port["port_key"], port["default"])
        ports.append({"port": number, "protocol": port["protocol"], "purpose": port["purpose"]})

    floor = KERNEL_FLOORS[line]
    return {
        "schema": REQUIREMENTS_SCHEMA,
        "version": parsed["version"],
        "line": line,
        "kernel_floor": {
            "version": list(floor["version"]),
            "backports": [dict(b, kernel=list(b["kernel"]), distros=list(b["distros"])) for b in floor["backports"]],
        },
        "groups": groups,
        "features": features,
        "modules": modules,
        "ports": ports,
        "needs": {
            "bpffs": True,
            "bpffs_automount": s["bpffs_automount"],
            "cgroup2": bool(s["socket_lb"]),
            "cgroup2_automount": s["cgroup_automount"],
            "btf": "btf" in patch_groups,
        },
        "settings": dict((k, s[k]) for k in sorted(s)),
    }


# ------------------------------------------------------------------------------------------- node verdict

def _fmt_kernel(parts: List[int]) -> str:
    if len(parts) == 3:
        return "%d.%d.%d" % (parts[0], parts[1], parts[2])
    return ".".join(str(p) for p in parts)


def _distro_version(text: Any) -> Optional[Tuple[int, int]]:
    if not isinstance(text, str):
        return None
    match = _DISTRO_VERSION_RE.match(text.strip())
    if not match:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def _check(cid: str, group: str, status: str, required: Any, found: Any, message: str) -> Dict[str, Any]:
    return {"id": cid, "group": group, "status": status, "required": required, "found": found, "message": message}


class _Facts(object):
    """Validated access to one node's ``node_facts`` (schema 1)."""

    def __init__(self, facts: Any, node: str) -> None:
        self.node = node
        if not isinstance(facts, dict):
            raise ValueError("node %s: node_facts must be a dict, got %s" % (node, type_name(facts)))
        schema = facts.get("schema")
        if schema is not None and schema != 1:
            raise ValueError("node %s: node_facts schema %r is not supported (expected 1)" % (node, schema))
        self.facts = facts

    def section(self, key: str, kind: type = dict) -> Any:
        """Return ``facts[key]`` (None when missing) after a type check."""
        value = self.facts.get(key)
        if value is not None and not isinstance(value, kind):
            raise ValueError(
                "node %s: node_facts.%s must be a %s, got %s"
                % (self.node, key, "dict" if kind is dict else "list", type_name(value))
            )
        return value

    def sub(self, parent: Optional[Dict[str, Any]], path: str, key: str, kind: Any) -> Any:
        if parent is None:
            return None
        value = parent.get(key)
        if value is not None and not isinstance(value, kind):
            raise ValueError(
                "node %s: node_facts.%s.%s has the wrong type (%s)" % (self.node, path, key, type_name(value))
            )
        return value


def _validate_requirements(req: Any) -> None:
    if not isinstance(req, dict):
        raise ValueError("requirements must be the dict returned by cilium_requirements, got %s" % type_name(req))
    for key, kind in (("line", str), ("version", str), ("kernel_floor", dict), ("groups", list),
                      ("features", list), ("ports", list), ("needs", dict)):
        if not isinstance(req.get(key), kind):
            raise ValueError(
                "requirements: key %r missing or not a %s; pass the output of cilium_requirements" % (key, kind.__name__)
            )


# Cache of the flattened option plan for the last requirements object (kept alive by the reference,
# so an identity match is safe). Fleet runs call node_verdict with the same requirements many times.
_NO_PLAN = object()
_PLAN_CACHE = [_NO_PLAN, None, None]  # type: List[Any]


def _plan(req: Dict[str, Any]) -> List[Tuple[str, str, str, str, Any, str, Dict[str, Any], Dict[str, Any]]]:
    """Flatten the required options once per requirements object.

    Each entry carries ready-made pass checks for ``=y`` and ``=m``; node_verdict copies them (a dict copy is
    several times cheaper than building the dict, which matters for fleets of thousands of nodes).
    """
    if _PLAN_CACHE[0] is req:
        return _PLAN_CACHE[1]
    plan = []
    for group in req["groups"]:
        if not isinstance(group, dict) or not isinstance(group.get("options"), list):
            raise ValueError("requirements: malformed group %r; pass the output of cilium_requirements" % (group,))
        for option in group["options"]:
            try:
                name, kind, severity = option["name"], option["type"], option["severity"]
            except (KeyError, TypeError):
                raise ValueError("requirements: malformed option %r in group %s" % (option, group.get("id")))
            below = option.get("below_kernel")
            required = "y" if kind == "bool" else "y/m"
            plan.append((name, group["id"], kind, severity, list(below) if below else None, required,
                         _check(name, group["id"], "pass", required, "y", "%s=y" % name),
                         _check(name, group["id"], "pass", required, "m", "%s=m (module)" % name)))
    ports = []
    for port in req["ports"]:
        try:
            cid = "port:%s/%s" % (port["protocol"], port["port"])
            ports.append((port["protocol"], port["port"], port["purpose"], cid,
                          _check(cid, "ports", "pass", "free", None, "%s port is free" % port["purpose"])))
        except (KeyError, TypeError):
            raise ValueError("requirements: malformed port %r; pass the output of cilium_requirements" % (port,))
    _PLAN_CACHE[0] = req
    _PLAN_CACHE[1] = plan
    _PLAN_CACHE[2] = ports
    return plan


def _port_plan(req: Dict[str, Any]) -> List[Tuple[Any, Any, Any, str, Dict[str, Any]]]:
    _plan(req)
    return _PLAN_CACHE[2]


_PASS_TEMPLATES = {}  # type: Dict[Tuple[Any, ...], Dict[str, Any]]
_MODULE_PASS = {}  # type: Dict[Tuple[str, str, str], Dict[str, Any]]


def _pass_copy(cid: str, group: str, required: Any, found: Any, message: str) -> Dict[str, Any]:
    """A fresh pass check built from a cached template (found must be hashable)."""
    key = (cid, group, required, found.__class__, found, message)
    template = _PASS_TEMPLATES.get(key)
    if template is None:
        if len(_PASS_TEMPLATES) > 4096:
            _PASS_TEMPLATES.clear()
        template = _PASS_TEMPLATES[key] = _check(cid, group, "pass", required, found, message)
    return template.copy()


def _backport_evident(req: Dict[str, Any], group: Any, options: Dict[str, Any]) -> bool:
    """True when every option of the feature's kernel-config group is built (a distro backport)."""
    names = [entry[0] for entry in _plan(req) if entry[1] == group]
    return bool(names) and all(options.get(name) in ("y", "m") for name in names)


def node_verdict(facts: Any, req: Any, node: Any = None) -> Dict[str, Any]:
    """Compare one node's facts with ``req``; return the node entry of report.json."""
    if node is None and isinstance(facts, dict):
        node = facts.get("hostname")
    node = str(node) if node is not None else "<unnamed node>"
    if _PLAN_CACHE[0] is not req:
        _validate_requirements(req)
    f = _Facts(facts, node)
    checks = []  # type: List[Dict[str, Any]]
    add = checks.append
    line = req["line"]

    # architecture
    arch = f.facts.get("architecture")
    if arch is None:
        add(_check("architecture", "platform", "unknown", "amd64 or arm64", None,
                   "architecture could not be determined"))
    elif not isinstance(arch, str):
        raise ValueError("node %s: node_facts.architecture must be a string, got %s" % (node, type_name(arch)))
    elif arch in ARCHITECTURES:
        add(_pass_copy("architecture", "platform", "amd64 or arm64", arch, "%s is supported" % arch))
    else:
        add(_check("architecture", "platform", "fail", "amd64 or arm64", arch,
                   "Cilium ships images for amd64 and arm64 only, not %s" % arch))

    # kernel version with distro backports
    kernel = f.section("kernel")
    release = f.sub(kernel, "kernel", "release", str)
    kversion = f.sub(kernel, "kernel", "version", list) or []
    for part in kversion:
        if not isinstance(part, int) or isinstance(part, bool):
            raise ValueError("node %s: node_facts.kernel.version must be a list of integers, got %r" % (node, kversion))
    kparts = (list(kversion) + [0, 0, 0])[:3] if kversion else None
    floor = req["kernel_floor"]
    floor_version = list(floor.get("version") or [0])
    backported = False
    if kparts is None:
        add(_check("kernel_version", "kernel", "unknown", ">= " + _fmt_kernel(floor_version), release,
                   "kernel release %s could not be parsed" % (repr(release) if release else "is unknown")))
    elif kparts >= floor_version:
        floor_text = _fmt_kernel(floor_version)
        add(_pass_copy("kernel_version", "kernel", ">= " + floor_text, release,
                       "kernel %s meets Cilium %s's floor %s" % (_fmt_kernel(kparts), line, floor_text)))
    else:
        distro = f.section("distro") or {}
        did = f.sub(distro, "distro", "id", str) or ""
        id_like = f.sub(distro, "distro", "id_like", list) or []
        dver_text = f.sub(distro, "distro", "version_id", str)
        dver = _distro_version(dver_text)
        status, message = "fail", "kernel %s is older than Cilium %s's floor %s" % (
            _fmt_kernel(kparts), line, _fmt_kernel(floor_version))
        notes = []
        for rule in floor.get("backports") or []:
            family = rule.get("distros") or [rule.get("distro")]
            if did not in family and not any(x in family for x in id_like):
                notes.append("%s %s+ with kernel %s would count" % (
                    rule.get("distro"), rule.get("min_distro_version"), _fmt_kernel(rule["kernel"])))
                continue
            minimum = _distro_version(rule.get("min_distro_version"))
            if kparts < list(rule["kernel"]):
                notes.append("even %s backports need kernel %s" % (rule.get("distro"), _fmt_kernel(rule["kernel"])))
                continue
            if dver is None or minimum is None or dver < minimum:
                notes.append("%s %s has no backports; %s+ is needed" % (
                    did, dver_text or "(unknown version)", rule.get("min_distro_version")))
                continue
            backported = True
            recommended = _distro_version(rule.get("recommended_distro_version"))
            if recommended is not None and dver < recommended:
                status = "warn"
                message = "%s %s kernel %s counts through distro backports; Cilium %s is tested on %s %s+" % (
                    did, dver_text, _fmt_kernel(kparts), line, rule.get("distro"), rule.get("recommended_distro_version"))
            else:
                status = "pass"
                message = "%s %s kernel %s counts as meeting the %s floor through distro backports" % (
                    did, dver_text, _fmt_kernel(kparts), _fmt_kernel(floor_version))
            break
        if status == "fail" and notes:
            message += " (" + "; ".join(notes) + ")"
        add(_check("kernel_version", "kernel", status, ">= " + _fmt_kernel(floor_version), release, message))

    # kernel configuration
    kconfig = f.section("kernel_config")
    config_status = f.sub(kconfig, "kernel_config", "status", str)
    options = f.sub(kconfig, "kernel_config", "options", dict)
    config_ok = config_status == "ok" and options is not None
    if config_ok:
        source = f.sub(kconfig, "kernel_config", "source", str) or "the kernel config"
    else:
        if kconfig is None:
            reason = "node_facts has no kernel_config"
        elif config_status == "ok":
            reason = "kernel_config.options is missing"
        else:
            reason = f.sub(kconfig, "kernel_config", "reason", str) or "no readable kernel config"
        unknown_message = "kernel config unknown: %s" % reason
    modules_facts = f.section("modules") or {}
    module_state = f.sub(modules_facts, "modules", "state", dict) or {}
    config_modules = modules_facts.get("config_modules")
    m_options = []  # type: List[Tuple[str, str, str]]
    # The hot loop of fleet runs: dict literals instead of _check() calls, messages precomputed in the plan.
    get_option = options.get if config_ok else None
    for entry in _plan(req):
        if get_option is not None and entry[4] is None:
            # Fast path (the common case in fleet runs): a plain option that is built.
            value = get_option(entry[0])
            if value == "y":
                add(entry[6].copy())
                continue
            if value == "m" and entry[2] == "tristate":
                add(entry[7].copy())
                m_options.append((entry[0], entry[1], entry[3]))
                continue
        name, group, kind, severity, below, required = entry[:6]
        if below is not None and kparts is not None and kparts >= below:
            add(_check(name, group, "skipped", required, None,
                       "%s is not a Kconfig option on kernel %s (built in since %s)"
                       % (name, _fmt_kernel(kparts), _fmt_kernel(below))))
            continue
        if not config_ok:
            add({"id": name, "group": group, "status": "unknown", "required": required, "found": None,
                 "message": unknown_message})
            continue
        value = options.get(name)
        if below is not None and kparts is None and value not in ("y", "m"):
            add(_check(name, group, "unknown", required, value,
                       "%s only exists on kernels older than %s and the kernel release is unknown"
                       % (name, _fmt_kernel(below))))
            continue
        if value == "y":
            add(entry[6].copy())
        elif value == "m":
            if kind == "bool":
                add(_check(name, group, severity, required, "m",
                           "%s is a bool option and must be =y; =m in %s means the config is inconsistent"
                           % (name, source)))
            else:
                add(entry[7].copy())
                m_options.append((name, group, severity))
        elif value is None or value == "n":
            add(_check(name, group, severity, required, value,
                       "%s is not set in %s (needed by group %s)" % (name, source, group)))
        else:
            add(_check(name, group, severity, required, value,
                       "%s has unexpected value %r in %s" % (name, value, source)))

    # modules for =m options
    seen_modules = set()
    for name, group, severity in m_options:
        module = MODULES.get(name, name[7:].lower())
        if module in seen_modules:
            continue
        seen_modules.add(module)
        state = module_state.get(module)
        if config_modules is not False and state in ("loaded", "loadable", "builtin"):
            template = _MODULE_PASS.get((module, group, state))
            if template is None:
                template = _MODULE_PASS[(module, group, state)] = _check(
                    "module:" + module, group, "pass", "loadable", state, "module %s is %s" % (module, state))
            add(template.copy())
            continue
        cid = "module:" + module
        if config_modules is False:
            add(_check(cid, group, severity, "loadable", None,
                       "%s=m but CONFIG_MODULES is off: the config does not match the kernel" % name))
        elif state == "missing":
            add(_check(cid, group, severity, "loadable", state,
                       "%s=m but module %s is not installed under /lib/modules" % (name, module)))
        else:
            add(_check(cid, group, "unknown", "loadable", state,
                       "module %s was not classified by node_facts (pass requirements.modules to it)" % module))

    # bpffs
    needs = req["needs"]
    bpffs = f.section("bpffs")
    if bpffs is None:
        add(_check("bpffs", "mounts", "unknown", "mounted at /sys/fs/bpf", None, "node_facts has no bpffs section"))
    else:
        mounted = bool(bpffs.get("mounted"))
        points = f.sub(bpffs, "bpffs", "mountpoints", list) or []
        if mounted and "/sys/fs/bpf" in points:
            add(_check("bpffs", "mounts", "pass", "mounted at /sys/fs/bpf", list(points),
                       "bpffs is mounted at /sys/fs/bpf"))
        elif not needs.get("bpffs_automount", True):
            add(_check("bpffs", "mounts", "fail", "mounted at /sys/fs/bpf", list(points),
                       "bpffs is not mounted at /sys/fs/bpf and bpf.autoMount.enabled=false"))
        else:
            add(_check("bpffs", "mounts", "warn", "mounted at /sys/fs/bpf", list(points),
                       "bpffs is not mounted at /sys/fs/bpf: Cilium mounts it itself, but pinned maps are lost "
                       "when the agent restarts"))
        persisted = bool(bpffs.get("persisted"))
        by = f.sub(bpffs, "bpffs", "persisted_by", list) or []
        if persisted:
            add(_check("bpffs_persisted", "mounts", "pass", "fstab or sys-fs-bpf.mount", list(by),
                       "bpffs mount persisted by %s" % ", ".join(str(x) for x in by)))
        else:
            add(_check("bpffs_persisted", "mounts", "warn", "fstab or sys-fs-bpf.mount", list(by),
                       "bpffs is not persisted (no fstab line, no sys-fs-bpf.mount unit): it is gone after reboot"))

    # cgroup v2
    cgroup = f.section("cgroup2")
    if cgroup is None:
        add(_check("cgroup2", "mounts", "unknown", "cgroup2 reachable", None, "node_facts has no cgroup2 section"))
    else:
        mode = cgroup.get("mode")
        if cgroup.get("mounted"):
            add(_check("cgroup2", "mounts", "pass", "cgroup2 reachable", mode,
                       "cgroup2 mounted at %s (%s)" % (cgroup.get("mountpoint"), mode)))
        elif not needs.get("cgroup2"):
            add(_check("cgroup2", "mounts", "skipped", "cgroup2 reachable", mode,
                       "no cgroup2 mount; not needed without socket-LB / kube-proxy replacement"))
        elif needs.get("cgroup2_automount", True):
            add(_check("cgroup2", "mounts", "warn", "cgroup2 reachable", mode,
                       "no cgroup2 mount on the host: Cilium mounts one at /run/cilium/cgroupv2 "
                       "(cgroup.autoMount.enabled=true); socket-LB needs it"))
        else:
            add(_check("cgroup2", "mounts", "fail", "cgroup2 reachable", mode,
                       "socket-LB / kube-proxy replacement needs cgroup2 but none is mounted and "
                       "cgroup.autoMount.enabled=false"))

    # BTF
    btf = f.section("btf")
    vmlinux = btf.get("vmlinux") if btf else None
    if not needs.get("btf"):
        add(_check("btf", "btf", "skipped", "not required", vmlinux,
                   "kernel BTF is not required by Cilium %s" % req["version"]))
    elif vmlinux is True:
        add(_check("btf", "btf", "pass", "/sys/kernel/btf/vmlinux", True, "/sys/kernel/btf/vmlinux exists"))
    elif vmlinux is False:
        add(_check("btf", "btf", "fail", "/sys/kernel/btf/vmlinux", False,
                   "/sys/kernel/btf/vmlinux is missing; Cilium %s cannot load its programs without BTF"
                   % req["version"]))
    else:
        add(_check("btf", "btf", "skipped", "/sys/kernel/btf/vmlinux", None,
                   "BTF file not checked (captured config audit); CONFIG_DEBUG_INFO_BTF decides"))

    # features
    for feature in req["features"]:
        fid = "feature:" + str(feature.get("id"))
        minimum = list((feature.get("min_kernel_by_arch") or {}).get(arch) or feature.get("min_kernel") or [0])
        need = ">= %s" % _fmt_kernel(minimum)
        why = feature.get("reason", "")
        if kparts is None:
            add(_check(fid, "features", "unknown", need, release, "kernel version unknown; %s needs %s" % (why, need)))
        elif kparts >= minimum:
            add(_check(fid, "features", "pass", need, release, "%s: kernel %s is new enough" % (why, _fmt_kernel(kparts))))
        elif backported and minimum <= floor_version:
            add(_check(fid, "features", "pass", need, release,
                       "%s: below %s upstream, covered by the distro's backports" % (why, _fmt_kernel(minimum))))
        elif backported and config_ok and _backport_evident(req, feature.get("group"), options):
            add(_check(fid, "features", "pass", need, release,
                       "%s: kernel %s is below %s upstream, but %s in the config shows the distro backported it"
                       % (why, _fmt_kernel(kparts), _fmt_kernel(minimum),
                          ", ".join("%s=%s" % (e[0], options.get(e[0])) for e in _plan(req)
                                    if e[1] == feature["group"]))))
        else:
            add(_check(fid, "features", feature.get("severity", "fail"), need, release,
                       "%s asks for %s, which needs kernel %s; node has %s"
                       % (why, feature.get("title", feature.get("id")), _fmt_kernel(minimum), _fmt_kernel(kparts))))

    # ports
    ports = f.section("ports", list)
    if ports is None:
        for protocol, number, purpose, cid, template in _port_plan(req):
            add(_check(cid, "ports", "unknown", "free", None, "node_facts has no ports list"))
    else:
        taken = {}
        for entry in ports:
            if not isinstance(entry, dict):
                raise ValueError("node %s: node_facts.ports entries must be dicts, got %s" % (node, type_name(entry)))
            taken[(entry.get("protocol"), entry.get("port"))] = entry
        for protocol, number, purpose, cid, template in _port_plan(req):
            holder = taken.get((protocol, number)) if taken else None
            if holder is None:
                add(template.copy())
                continue
            owner = str(holder.get("owner") or "unknown")
            if owner.startswith("cilium"):
                add(_check(cid, "ports", "pass", "free", owner, "%s port is already held by Cilium" % purpose))
            else:
                hint = ""
                if purpose == "vxlan":
                    hint = " (Flannel's flannel.1 uses it too: set tunnelPort, e.g. 8473, for a live migration)"
                add(_check(cid, "ports", "warn", "free", owner,
                           "%s port %s/%s is taken by %s%s" % (purpose, number, protocol, owner, hint)))

    # firewall, iptables backends, privileges
    firewall = f.section("firewall")
    if firewall is None:
        add(_check("firewall", "host", "unknown", "inactive", None, "node_facts has no firewall section"))
    elif firewall.get("active"):
        findings = f.sub(firewall, "firewall", "findings", list) or []
        add(_check("firewall", "host", "warn", "inactive", list(findings),
                   "host firewall active (%s): open Cilium's ports between nodes"
                   % ("; ".join(str(x) for x in findings) or "no details")))
    else:
        add(_pass_copy("firewall", "host", "inactive", None, "no active host firewall found"))

    iptables = f.section("iptables")
    if iptables is None:
        add(_check("iptables_backends", "host", "unknown", "one backend", None, "node_facts has no iptables section"))
    elif iptables.get("mixed"):
        add(_check("iptables_backends", "host", "warn", "one backend", "legacy+nft",
                   "both iptables-legacy and iptables-nft hold rules; clean one backend up"))
    else:
        add(_pass_copy("iptables_backends", "host", "one backend", iptables.get("default"),
                       "iptables rules live in one backend (%s)" % iptables.get("default")))

    privileges = f.section("privileges")
    wanted = "the capabilities Cilium's agent uses"
    if privileges is None:
        add(_check("privileges", "host", "unknown", wanted, None, "node_facts has no privileges section"))
    elif privileges.get("ok"):
        add(_pass_copy("privileges", "host", wanted, None, "the audit ran with every capability the agent uses"))
    else:
        missing = f.sub(privileges, "privileges", "missing", list) or []
        add(_check("privileges", "host", "warn", wanted, list(missing),
                   "the audit ran without %s: some facts may be incomplete, and a container runtime that cannot "
                   "grant them will stop the agent" % (", ".join(str(x) for x in missing) or "full privileges")))

    seen_statuses = set(c["status"] for c in checks)
    verdict = "pass"
    for status in ("fail", "unknown", "warn"):
        if status in seen_statuses:
            verdict = status
            break
    return {"verdict": verdict, "kernel_release": release if release is not None else "unknown", "checks": checks}


# ---------------------------------------------------------------------------------------------- fleet

def fleet_summary(node_results: Any) -> Dict[str, Any]:
    """Summarise ``{host: node entry}``: counts per verdict, the worst verdict, and the failing checks."""
    if not isinstance(node_results, dict):
        raise ValueError("node results must be a dict of host -> node verdict, got %s" % type_name(node_results))
    counts = dict((v, 0) for v in VERDICTS)
    by_check = {}  # type: Dict[str, Dict[str, int]]
    blocking = []
    warned = []
    worst = "pass" if node_results else "unknown"
    for host in sorted(node_results, key=str):
        entry = node_results[host]
        if not isinstance(entry, dict) or not isinstance(entry.get("checks"), list):
            raise ValueError("node %s: result is not a node verdict (missing checks list)" % host)
        verdict = entry.get("verdict")
        if verdict not in counts:
            raise ValueError("node %s: verdict %r is not one of %s" % (host, verdict, ", ".join(VERDICTS)))
        counts[verdict] += 1
        if _RANK[verdict] > _RANK[worst]:
            worst = verdict
        if verdict in ("fail", "unknown"):
            blocking.append(str(host))
        elif verdict == "warn":
            warned.append(str(host))
        for check in entry["checks"]:
            try:
                status = check["status"]
            except (KeyError, TypeError):
                status = None
            if status == "pass" or status == "skipped":
                continue
            if status not in _RANK or "id" not in check:
                raise ValueError("node %s: malformed check %r" % (host, check))
            if status in ("fail", "warn", "unknown"):
                slot = by_check.get(check["id"])
                if slot is None:
                    slot = by_check[check["id"]] = {"fail": 0, "warn": 0, "unknown": 0}
                slot[status] += 1
    return {
        "nodes": len(node_results),
        "verdicts": counts,
        "verdict": worst,
        "ok": bool(node_results) and worst in ("pass", "warn"),
        "blocking_nodes": blocking,
        "warning_nodes": warned,
        "checks": dict((k, by_check[k]) for k in sorted(by_check)),
    }
