# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE to the kubeshift.cilium collection: no API guarantee, may change at any time.
"""Helm values for the Cilium chart: merging, typed lookups and the chart defaults that matter.

Pure functions, no I/O. Errors are ``ValueError`` naming the key, what was expected and what was found.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional, Sequence, Tuple

# Chart defaults per minor line for the keys the preflight decides on (read with ``helm show values``).
# ``None`` means "unset in the chart"; the getters below say what the agent then does.
_COMMON_DEFAULTS = {
    "routingMode": "",
    "tunnelProtocol": "",
    "tunnelPort": 0,
    "l7Proxy": True,
    "bpf.masquerade": None,
    "bpf.hostLegacyRouting": None,
    "bpf.tproxy": None,
    "bpf.datapathMode": "veth",
    "encryption.enabled": False,
    "encryption.type": "ipsec",
    "bandwidthManager.enabled": False,
    "bandwidthManager.bbr": False,
    "enableIPv4BIGTCP": False,
    "enableIPv6BIGTCP": False,
    "socketLB.enabled": False,
    "bpf.autoMount.enabled": True,
    "cgroup.autoMount.enabled": True,
    "socketLB.hostNamespaceOnly": False,
    "hubble.enabled": True,
    "hubble.relay.enabled": False,
    "hubble.metrics.enabled": None,
    "hubble.metrics.port": 9965,
    "prometheus.enabled": False,
    "prometheus.port": 9962,
    "operator.prometheus.enabled": True,
    "operator.prometheus.port": 9963,
    "envoy.prometheus.enabled": True,
    "envoy.prometheus.port": 9964,
    "loadBalancer.mode": "snat",
    "loadBalancer.dsrDispatch": "opt",
    "extraConfig": {},
}

CHART_DEFAULTS = {
    # kubeProxyReplacement is commented out in the 1.16/1.17 charts: the agent then runs without KPR.
    "1.16": dict(_COMMON_DEFAULTS, kubeProxyReplacement=None, enableIPv4Masquerade=True),
    "1.17": dict(_COMMON_DEFAULTS, kubeProxyReplacement=None, enableIPv4Masquerade=True),
    "1.18": dict(_COMMON_DEFAULTS, kubeProxyReplacement=False, enableIPv4Masquerade=None),
    "1.19": dict(_COMMON_DEFAULTS, kubeProxyReplacement="false", enableIPv4Masquerade=None),
    "1.20": dict(_COMMON_DEFAULTS, kubeProxyReplacement="false", enableIPv4Masquerade=None),
}

_MISSING = object()

# Order matters: bool is a subclass of int.
_TYPE_NAMES = (
    (bool, "bool"),
    (int, "int"),
    (float, "float"),
    (str, "string"),
    (dict, "dict"),
    ((list, tuple), "list"),
    (type(None), "null"),
)


def type_name(value: Any) -> str:
    """Return a user-facing (YAML-ish) name for the type of ``value``."""
    for kind, name in _TYPE_NAMES:
        if isinstance(value, kind):
            return name
    return type(value).__name__


def deep_merge(layers: Sequence[Any], what: str = "values") -> Dict[str, Any]:
    """Merge dicts left to right like Helm merges ``-f`` files: nested dicts merge, everything else
    (lists included) is replaced by the later layer. ``None`` layers (an empty YAML file) are skipped.

    The inputs are not modified.
    """
    if not isinstance(layers, (list, tuple)):
        raise ValueError("%s: expected a list of dicts to merge, got %s" % (what, type_name(layers)))
    result = {}  # type: Dict[str, Any]
    for index, layer in enumerate(layers):
        if layer is None:
            continue
        if not isinstance(layer, dict):
            raise ValueError(
                "%s: item %d must be a dict of Helm values (a YAML mapping), got %s"
                % (what, index + 1, type_name(layer))
            )
        _merge_into(result, layer)
    return result


def _merge_into(target: Dict[str, Any], layer: Dict[str, Any]) -> None:
    for key, value in layer.items():
        current = target.get(key, _MISSING)
        if isinstance(value, dict) and isinstance(current, dict):
            merged = dict(current)
            _merge_into(merged, value)
            target[key] = merged
        else:
            target[key] = copy.deepcopy(value)


def lookup(values: Dict[str, Any], key: str, default: Any = _MISSING) -> Any:
    """Return the value at dotted ``key`` or ``default`` when a part is absent.

    An intermediate part that exists but is not a dict is an error (``bpf: true`` when ``bpf.masquerade``
    is asked for).
    """
    node = values  # type: Any
    walked = []  # type: List[str]
    for part in key.split("."):
        if not isinstance(node, dict):
            raise ValueError(
                "values key %s: expected a dict, found %s" % (".".join(walked), type_name(node))
            )
        walked.append(part)
        if part not in node:
            return None if default is _MISSING else default
        node = node[part]
    return node


class Values(object):
    """Typed view of merged Helm values with the chart defaults of one Cilium line underneath."""

    def __init__(self, values: Optional[Dict[str, Any]], line: str) -> None:
        if values is None:
            values = {}
        if not isinstance(values, dict):
            raise ValueError("values: expected a dict of Helm values, got %s" % type_name(values))
        if line not in CHART_DEFAULTS:
            raise ValueError("values: no chart defaults for Cilium %s" % line)
        self.values = values
        self.line = line
        self.defaults = CHART_DEFAULTS[line]

    def raw(self, key: str) -> Tuple[Any, bool]:
        """Return ``(value, explicitly_set)``; unset or null keys fall back to the chart default."""
        found = lookup(self.values, key, _MISSING)
        if found is _MISSING or found is None:
            return self.defaults.get(key), False
        return found, True

    def get_bool(self, key: str) -> bool:
        """Helm-ish truthiness: ``true``/``false`` or the strings ``"true"``/``"false"``; null/unset → default."""
        value = self.raw(key)[0]
        return to_bool(value, key)

    def get_optional_bool(self, key: str) -> Optional[bool]:
        """Like :meth:`get_bool` but keeps ``None`` when neither the values nor the chart set the key."""
        value = self.raw(key)[0]
        if value is None:
            return None
        return to_bool(value, key)

    def get_str(self, key: str, choices: Optional[Sequence[str]] = None) -> str:
        """A string value (``None`` → ``""``), optionally restricted to ``choices``."""
        value = self.raw(key)[0]
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise ValueError(
                "values key %s: expected string, found %s (%r)" % (key, type_name(value), value)
            )
        if choices is not None and value not in choices:
            raise ValueError(
                "values key %s: %r is not one of %s" % (key, value, ", ".join(repr(c) for c in choices))
            )
        return value

    def get_port(self, key: str, default: int) -> int:
        """A TCP/UDP port (int or digit string); 0 or empty → ``default``."""
        value = self.raw(key)[0]
        if value is None or value == "" or value == 0:
            return default
        if isinstance(value, bool):
            raise ValueError("values key %s: expected a port number, found bool (%r)" % (key, value))
        if isinstance(value, str):
            if not value.strip().isdigit():
                raise ValueError("values key %s: expected a port number, found string %r" % (key, value))
            value = int(value.strip())
        if not isinstance(value, int):
            raise ValueError("values key %s: expected a port number, found %s (%r)" % (key, type_name(value), value))
        if value == 0:
            return default
        if not 0 < value < 65536:
            raise ValueError("values key %s: port %d is outside 1-65535" % (key, value))
        return value

    def get_dict(self, key: str) -> Dict[str, Any]:
        value = self.raw(key)[0]
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError("values key %s: expected dict, found %s" % (key, type_name(value)))
        return value

    def kube_proxy_replacement(self) -> bool:
        """``kubeProxyReplacement``: only true/false (bool or string) are valid since chart 1.14."""
        value = self.raw("kubeProxyReplacement")[0]
        if value is None:
            return False
        if isinstance(value, str) and value.strip().lower() in ("strict", "partial", "probe", "disabled"):
            raise ValueError(
                "values key kubeProxyReplacement: %r is a pre-1.14 mode; Cilium %s accepts only true or false"
                % (value, self.line)
            )
        return to_bool(value, "kubeProxyReplacement")

    def get_list_or_none(self, key: str) -> Optional[List[Any]]:
        value = self.raw(key)[0]
        if value is None:
            return None
        if not isinstance(value, list):
            raise ValueError("values key %s: expected list, found %s" % (key, type_name(value)))
        return value


def to_bool(value: Any, key: str) -> bool:
    """Convert a Helm boolean (``true``/``false`` or their string forms) or raise ``ValueError``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        raise ValueError("values key %s: expected bool (true/false), found string %r" % (key, value))
    raise ValueError("values key %s: expected bool (true/false), found %s (%r)" % (key, type_name(value), value))
