# -*- coding: utf-8 -*-
# Copyright (c) kubeshift contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lint Helm values against the Cilium chart that will receive them.

Private module, no API guarantee. Pure: the chart's own ``values.yaml`` text (from ``helm show values``
or read out of the chart archive) and the values in, findings out.

The chart's ``values.schema.json`` accepts almost anything (``routingMode: bogus``, ``ipam.mode: nonsense``
and unknown keys all render), so this lint checks:

* unknown keys: not in the chart's ``values.yaml``, with a did-you-mean (difflib);
* keys removed in that chart line (``REMOVED_KEYS``, built by diffing the flattened ``values.yaml`` of
  the 1.16.19, 1.17.5, 1.18.12, 1.19.6 and 1.20.0 charts; a unit test re-does the diff);
* enum values of the keys whose wrong value renders silently (``ENUMS``);
* strings given to boolean keys (a Go template treats the string ``"false"`` as true).

Keys whose default in ``values.yaml`` is commented out but documented (helm-docs ``# --`` comment block
followed by ``# key: value``, e.g. ``socketLB.hostNamespaceOnly``, ``loadBalancer.mode``) are known keys.
Sub-keys of free-form maps (empty/null defaults such as ``podAnnotations: {}``, and the Kubernetes-shaped
fields in ``FREE_FORM_NAMES``) are not checked.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.kubeshift.cilium.plugins.module_utils._cluster import load_yaml_mapping


# Keys removed from the chart (the top-most key that disappeared), with the first chart line that no longer
# has them and, where there is one, the replacement. Built by diffing ``known_keys()`` of consecutive charts
# (1.16.19 -> 1.17.5 -> 1.18.12 -> 1.19.6 -> 1.20.0); tests/unit/.../test_values_lint.py re-does the diff.
REMOVED_KEYS: Dict[str, Tuple[str, str]] = {
    "bgp": ("1.17", "BGP control plane v2: bgpControlPlane.enabled"),
    "encryption.wireguard.userspaceFallback": ("1.17", ""),
    "ciliumEndpointSlice.sliceMode": ("1.18", ""),
    "enableCiliumEndpointSlice": ("1.18", "ciliumEndpointSlice.enabled"),
    "enableK8sTerminatingEndpoint": ("1.18", "always on"),
    "enableRuntimeDeviceDetection": ("1.18", "always on"),
    "eni.updateEC2AdapterLimitViaAPI": ("1.18", ""),
    "externalIPs": ("1.18", "externalIPs are always handled with kubeProxyReplacement=true"),
    "externalWorkloads": ("1.18", "external workloads support was removed"),
    "highScaleIPcache": ("1.18", ""),
    "hostPort": ("1.18", "hostPort is always handled with kubeProxyReplacement=true"),
    "hubble.export.fileMaxBackups": ("1.18", "hubble.export.static.fileMaxBackups"),
    "hubble.export.fileMaxSizeMb": ("1.18", "hubble.export.static.fileMaxSizeMb"),
    "hubble.relay.dialTimeout": ("1.18", ""),
    "l2NeighDiscovery.refreshPeriod": ("1.18", ""),
    "loadBalancer.experimental": ("1.18", ""),
    "clustermesh.apiserver.tls.client": ("1.19", ""),
    "customCalls": ("1.19", ""),
    "enableK8sEndpointSlice": ("1.19", ""),
    "l2podAnnouncements.interface": ("1.19", "l2podAnnouncements.interfacePattern"),
    "loadBalancer.standalone": ("1.19", ""),
    "nodePort.enabled": ("1.19", "NodePort is always handled with kubeProxyReplacement=true"),
    "svcSourceRangeCheck": ("1.19", ""),
    "clustermesh.apiserver.tls.admin": ("1.20", ""),
    "clustermesh.apiserver.tls.enableSecrets": ("1.20", ""),
    "clustermesh.apiserver.tls.remote": ("1.20", ""),
    "clustermesh.apiserver.tls.server": ("1.20", ""),
    "clustermesh.enableMCSAPISupport": ("1.20", "clustermesh.mcsapi.enabled"),
    "encryption.ipsec.encryptedOverlay": ("1.20", ""),
    "encryption.strictMode.allowRemoteNodeIdentities": ("1.20", "encryption.strictMode.egress.allowRemoteNodeIdentities"),
    "encryption.strictMode.cidr": ("1.20", "encryption.strictMode.egress.cidr"),
    "encryption.strictMode.enabled": ("1.20", "encryption.strictMode.egress.enabled"),
    "hubble.redact.kafka": ("1.20", ""),
    "hubble.ui.backend.livenessProbe": ("1.20", ""),
    "hubble.ui.backend.readinessProbe": ("1.20", ""),
    "preflight.tofqdnsPreCache": ("1.20", ""),
    # Older than the oldest chart handled here, kept because old values files still carry them.
    "tunnel": ("1.15", "routingMode + tunnelProtocol"),
    "hostServices": ("1.15", "socketLB.enabled"),
}

# Enum keys: allowed values, optionally per chart line ("1.16" ...); "*" applies to all lines.
ENUMS: Dict[str, Dict[str, Tuple[Any, ...]]] = {
    "routingMode": {"*": ("", "tunnel", "native")},
    "tunnelProtocol": {"*": ("", "vxlan", "geneve")},
    "underlayProtocol": {"*": ("", "ipv4", "ipv6", "auto")},
    "kubeProxyReplacement": {"*": (True, False, "true", "false")},
    "ipam.mode": {"*": ("cluster-pool", "kubernetes", "multi-pool", "crd", "eni", "azure", "alibabacloud",
                        "delegated-plugin")},
    "bpf.datapathMode": {"1.16": ("veth", "netkit", "netkit-l2", "lb-only"),
                         "1.17": ("veth", "netkit", "netkit-l2", "lb-only"),
                         "1.18": ("veth", "netkit", "netkit-l2"),
                         "1.19": ("veth", "netkit", "netkit-l2"),
                         "*": ("auto", "veth", "netkit", "netkit-l2")},
    "encryption.type": {"1.16": ("ipsec", "wireguard"), "1.17": ("ipsec", "wireguard"),
                        "1.18": ("ipsec", "wireguard"), "*": ("ipsec", "wireguard", "ztunnel")},
    "loadBalancer.mode": {"*": ("snat", "dsr", "hybrid")},
    "loadBalancer.algorithm": {"*": ("random", "maglev")},
    "loadBalancer.dsrDispatch": {"*": ("opt", "ipip", "geneve")},
    "loadBalancer.acceleration": {"*": ("disabled", "native", "best-effort", "testing-only")},
    "loadBalancer.l7.backend": {"*": ("disabled", "envoy")},
    "policyEnforcementMode": {"*": ("default", "always", "never")},
    "identityAllocationMode": {"*": ("crd", "kvstore", "doublewrite-readkvstore", "doublewrite-readcrd")},
    "hubble.tls.auto.method": {"*": ("helm", "cronJob", "certmanager")},
    "cni.chainingMode": {"*": (None, "none", "aws-cni", "flannel", "generic-veth", "portmap")},
}

# Keys the templates read although values.yaml neither sets nor documents them in a comment.
EXTRA_KNOWN_KEYS = (
    "k8s.apiServerURLs",
)

# Names of Kubernetes-shaped fields whose content is free-form even when the chart sets defaults.
FREE_FORM_NAMES = frozenset((
    "affinity", "annotations", "extraConfig", "extraEnv", "extraArgs", "labels", "nodeSelector",
    "podAnnotations", "podLabels", "podSecurityContext", "resources", "securityContext", "tolerations",
    "updateStrategy", "topologySpreadConstraints", "livenessProbe", "readinessProbe", "startupProbe",
    "serviceAnnotations", "serviceLabels", "extraVolumes", "extraVolumeMounts", "extraHostPathMounts",
    "extraInitContainers", "podDisruptionBudget", "initResources", "sysctlfix",
))

# Booleans whose chart default is null (so the type cannot be read from values.yaml).
NULL_DEFAULT_BOOLS = frozenset((
    "bpf.masquerade", "bpf.hostLegacyRouting", "bpf.tproxy", "enableIPv4Masquerade", "enableIPv6Masquerade",
    "socketLB.hostNamespaceOnly", "enableIPv4BIGTCP", "enableIPv6BIGTCP",
))

# Keys whose default is boolean but where the chart also accepts strings.
BOOL_STRING_OK = frozenset(("kubeProxyReplacement", "gatewayAPI.gatewayClass.create"))

_KEY_LINE = re.compile(r"^(\s*)([A-Za-z_][A-Za-z0-9_.-]*):(\s.*)?$")
_COMMENTED_KEY = re.compile(r"^(\s*)# ?([A-Za-z][A-Za-z0-9_]*):(\s.*)?$")
_DOC_LINE = re.compile(r"^(\s*)# --")
_NOT_KEYS = frozenset(("ref", "Ref", "type", "default", "e.g", "Example", "example", "Note", "NOTE", "WARNING",
                       "Warning", "Deprecated", "DEPRECATED", "see", "See", "Refs", "refs", "http", "https"))


class ValuesLintError(ValueError):
    """The chart's values.yaml or the values to lint cannot be read."""


def chart_line(version: str) -> str:
    m = re.match(r"^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?$", str(version or "").strip())
    if not m:
        raise ValuesLintError("Cilium version %r is not X.Y.Z" % (version,))
    return "%s.%s" % (m.group(1), m.group(2))


def _line_tuple(line: str) -> Tuple[int, int]:
    a, b = line.split(".")
    return int(a), int(b)


def _commented_keys(text: str) -> List[Tuple[str, ...]]:
    """Documented-but-commented keys: ``# key: value`` inside a helm-docs ``# --`` comment block."""
    found: List[Tuple[str, ...]] = []
    stack: List[Tuple[int, str]] = []  # (indent, key) of enclosing uncommented keys
    block_indent: Optional[int] = None  # indent of the current "# --" comment block
    block_scalar_indent: Optional[int] = None
    in_schema = False  # between "# @schema" markers: JSON-schema hints, not keys
    for raw in text.splitlines():
        if not raw.strip():
            block_indent = None
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        stripped = raw.strip()
        if block_scalar_indent is not None:
            if indent > block_scalar_indent:
                continue
            block_scalar_indent = None
        if stripped.startswith("# @schema"):
            in_schema = not in_schema
            continue
        if in_schema and stripped.startswith("#"):
            continue
        in_schema = False
        if stripped.startswith("#"):
            doc = _DOC_LINE.match(raw)
            if doc:
                block_indent = indent
                continue
            if block_indent is None or indent != block_indent:
                if block_indent is not None and indent != block_indent:
                    block_indent = None
                continue
            m = _COMMENTED_KEY.match(raw)
            if m and m.group(2) not in _NOT_KEYS:
                value = (m.group(3) or "").strip()
                if value.startswith("//") or value.startswith("http"):
                    continue
                parents = [k for (i, k) in stack if i < indent]
                found.append(tuple(parents + [m.group(2)]))
            continue
        block_indent = None
        if stripped.startswith("- "):
            continue
        m = _KEY_LINE.match(raw)
        if not m:
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, m.group(2)))
        rest = (m.group(3) or "").strip()
        if rest.startswith("|") or rest.startswith(">"):
            block_scalar_indent = indent
    return found


def known_keys(values_yaml: str, source: str = "values.yaml") -> Dict[Tuple[str, ...], Dict[str, Any]]:
    """Index of the chart's keys: path tuple -> ``{"node": dict|leaf|free|commented, "default": value}``."""
    if not isinstance(values_yaml, str) or not values_yaml.strip():
        raise ValuesLintError("%s is empty" % source)
    doc = load_yaml_mapping(values_yaml, source, ValuesLintError)
    index: Dict[Tuple[str, ...], Dict[str, Any]] = {}

    def walk(node: Dict[str, Any], path: Tuple[str, ...]) -> None:
        for key, value in node.items():
            p = path + (str(key),)
            if str(key) in FREE_FORM_NAMES:
                index[p] = {"node": "free", "default": value}
            elif isinstance(value, dict) and value:
                index[p] = {"node": "dict", "default": None}
                walk(value, p)
            elif isinstance(value, dict) or value is None:
                index[p] = {"node": "free", "default": value}
            else:
                index[p] = {"node": "leaf", "default": value}

    walk(doc, ())
    for path in _commented_keys(values_yaml):
        parent = path[:-1]
        if parent and parent not in index:
            continue
        if parent and index[parent]["node"] != "dict":
            continue
        index.setdefault(path, {"node": "commented", "default": None})
    for dotted in EXTRA_KNOWN_KEYS:
        path = tuple(dotted.split("."))
        for i in range(1, len(path)):
            index.setdefault(path[:i], {"node": "dict", "default": None})
        index.setdefault(path, {"node": "commented", "default": None})
    return index


def _suggest(path: Tuple[str, ...], index: Dict[Tuple[str, ...], Dict[str, Any]]) -> Optional[str]:
    parent = path[:-1]
    name = path[-1]
    siblings = [p[-1] for p in index if p[:-1] == parent]
    lower = {s.lower(): s for s in siblings}
    if name.lower() in lower:
        return ".".join(parent + (lower[name.lower()],))
    close = difflib.get_close_matches(name, siblings, n=1, cutoff=0.75)
    if close:
        return ".".join(parent + (close[0],))
    # The same name elsewhere (a key at the wrong level), e.g. masquerade -> bpf.masquerade.
    same = sorted(".".join(p) for p in index if p[-1] == name and p != path)
    if len(same) == 1:
        return same[0]
    dotted = ".".join(path)
    close = difflib.get_close_matches(dotted, [".".join(p) for p in index], n=1, cutoff=0.85)
    return close[0] if close else None


def _removed(dotted: str, line: str) -> Optional[Tuple[str, str, str]]:
    """The REMOVED_KEYS entry for this key or one of its parents, when removed at or before ``line``."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        key = ".".join(parts[:i])
        entry = REMOVED_KEYS.get(key)
        if entry and _line_tuple(entry[0]) <= _line_tuple(line):
            return key, entry[0], entry[1]
    return None


def enum_for(key: str, line: str) -> Optional[Tuple[Any, ...]]:
    spec = ENUMS.get(key)
    if not spec:
        return None
    return spec.get(line, spec.get("*"))


def lint_values(values: Dict[str, Any], values_yaml: str, version: str, ignore: Optional[List[str]] = None,
                source: str = "values.yaml") -> Dict[str, Any]:
    """Return ``{"version", "line", "ok", "findings": [{key, kind, message, suggestion}]}``.

    ``kind`` is ``unknown``, ``removed``, ``invalid_value`` or ``invalid_type``. ``ignore`` lists dotted
    keys (and their sub-keys) to leave alone.
    """
    line = chart_line(version)
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ValuesLintError("the values to lint must be a mapping, got %s" % type(values).__name__)
    index = known_keys(values_yaml, source)
    ignored = [str(i) for i in ignore or []]
    findings: List[Dict[str, Any]] = []

    def is_ignored(dotted: str) -> bool:
        return any(dotted == i or dotted.startswith(i + ".") for i in ignored)

    def add(key: str, kind: str, message: str, suggestion: Optional[str] = None) -> None:
        findings.append({"key": key, "kind": kind, "message": message, "suggestion": suggestion})

    def check_value(path: Tuple[str, ...], value: Any) -> None:
        dotted = ".".join(path)
        allowed = enum_for(dotted, line)
        if allowed is not None and path in index:
            ok = any(value == a and type(value) is type(a) for a in allowed)
            if not ok:
                shown = ", ".join("null" if a is None else (str(a).lower() if isinstance(a, bool) else repr(a))
                                  for a in allowed)
                close = difflib.get_close_matches(str(value), [str(a) for a in allowed if isinstance(a, str) and a],
                                                  n=1, cutoff=0.6)
                add(dotted, "invalid_value", "%s=%r is not valid for Cilium %s (allowed: %s)"
                    % (dotted, value, line, shown), ".".join(path) + "=" + close[0] if close else None)
            return
        entry = index.get(path)
        boolean = dotted in NULL_DEFAULT_BOOLS or bool(entry and isinstance(entry["default"], bool))
        if boolean and isinstance(value, str) and dotted not in BOOL_STRING_OK:
            add(dotted, "invalid_type", "%s=%r is a string but the chart expects a boolean (Helm templates treat any "
                "non-empty string, even \"false\", as true)" % (dotted, value), dotted + "=" + value.strip().lower()
                if value.strip().lower() in ("true", "false") else None)

    def walk(node: Dict[str, Any], path: Tuple[str, ...]) -> None:
        for key, value in node.items():
            p = path + (str(key),)
            dotted = ".".join(p)
            if is_ignored(dotted):
                continue
            removed = _removed(dotted, line)
            if removed and p not in index:
                if isinstance(value, dict) and value:
                    walk(value, p)  # name the user's own keys, e.g. externalIPs.enabled
                    continue
                rkey, rline, hint = removed
                add(dotted, "removed", "%s was removed in Cilium %s%s (target chart %s)%s"
                    % (dotted, rline, "" if rkey == dotted else " with %s" % rkey, version,
                       "; use " + hint if hint and "." in hint and " " not in hint else ("; " + hint if hint else "")),
                    hint if hint and " " not in hint else None)
                continue
            if p not in index:
                suggestion = _suggest(p, index)
                add(dotted, "unknown", "%s is not a key of the Cilium %s chart%s"
                    % (dotted, version, " (did you mean %s?)" % suggestion if suggestion else ""), suggestion)
                continue
            kind = index[p]["node"]
            if kind == "dict":
                if isinstance(value, dict):
                    walk(value, p)
                elif value is not None:
                    add(dotted, "invalid_type", "%s must be a mapping in the Cilium %s chart, got %s"
                        % (dotted, version, type(value).__name__))
                continue
            check_value(p, value)

    walk(values, ())
    return {"version": str(version), "line": line, "ok": not findings, "findings": findings}


def format_findings(report: Dict[str, Any]) -> str:
    return "; ".join(f["message"] for f in report.get("findings") or [])
