# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Builders for synthetic ``node_facts`` (schema 1) used by the preflight unit tests and the benchmark."""

from __future__ import annotations

import copy

from ansible_collections.kubeshift.cilium.plugins.module_utils._cilium_matrix import GROUPS, MODULES

_DELETE = object()
DELETE = _DELETE


def all_matrix_options(value_bool="y", value_tristate="y"):
    """Every option the matrix knows, set to ``y`` (bools) and ``value_tristate`` (tristates)."""
    options = {"CONFIG_MODULES": "y"}
    for group in GROUPS:
        for option in group["options"]:
            options[option["name"]] = value_bool if option["type"] == "bool" else value_tristate
    # INET_XFRM_MODE_TUNNEL does not exist on modern kernels.
    options.pop("CONFIG_INET_XFRM_MODE_TUNNEL", None)
    return options


def make_facts(hostname="node1", release="6.1.0-28-amd64", version=None, arch="x86_64",
               distro_id="debian", version_id="12", id_like=None, options=None, option_overrides=None,
               config_status="ok", config_reason=None, modules_state=None, config_modules=True,
               btf=True, bpffs_mounted=True, bpffs_persisted=True, cgroup2_mounted=True,
               ports=None, firewall_findings=None, iptables_mixed=False, missing_caps=None, **sections):
    """Return a complete, passing-by-default ``node_facts`` dict; keyword arguments change one aspect.

    ``option_overrides`` maps option -> value, or -> ``DELETE`` to drop the option.
    Extra keyword arguments replace whole top-level sections (``DELETE`` removes the section).
    """
    if version is None:
        head = release.split("-")[0].split(".")
        version = [int(p) for p in head if p.isdigit()][:3]
    opts = dict(options) if options is not None else all_matrix_options()
    for name, value in (option_overrides or {}).items():
        if value is _DELETE:
            opts.pop(name, None)
        else:
            opts[name] = value
    if modules_state is None:
        modules_state = dict((m, "loadable") for m in set(MODULES.values()))
    ok = config_status == "ok"
    facts = {
        "schema": 1,
        "hostname": hostname,
        "architecture": arch,
        "architecture_source": "uname",
        "kernel": {"release": release, "release_source": "uname", "version": list(version)},
        "distro": {"id": distro_id, "version_id": version_id, "id_like": list(id_like or []),
                   "pretty_name": "%s %s" % (distro_id, version_id), "source": "/etc/os-release"},
        "kernel_config": {
            "status": config_status,
            "source": "/proc/config.gz" if ok else None,
            "reason": config_reason if not ok else None,
            "header_release": release if ok else None,
            "options": opts if ok else {},
        },
        "btf": {"vmlinux": btf},
        "bpffs": {"mounted": bpffs_mounted, "mountpoints": ["/sys/fs/bpf"] if bpffs_mounted else [],
                  "persisted": bpffs_persisted, "persisted_by": ["fstab"] if bpffs_persisted else []},
        "cgroup2": {"mounted": cgroup2_mounted, "mountpoint": "/sys/fs/cgroup" if cgroup2_mounted else None,
                    "mode": "unified" if cgroup2_mounted else "legacy"},
        "modules": {"config_modules": config_modules if ok else None, "proc_modules": True,
                    "state": modules_state},
        "iptables": {"legacy": {"present": True, "rules": iptables_mixed},
                     "nft": {"present": True, "rules": True}, "default": "nft", "mixed": iptables_mixed},
        "privileges": {"uid": 0, "capabilities": ["CAP_NET_ADMIN", "CAP_SYS_ADMIN"],
                       "missing": list(missing_caps or []), "ok": not missing_caps},
        "ports": list(ports or []),
        "firewall": {"active": bool(firewall_findings), "findings": list(firewall_findings or [])},
        "warnings": [],
    }
    for key, value in sections.items():
        if value is _DELETE:
            facts.pop(key, None)
        else:
            facts[key] = copy.deepcopy(value)
    return facts


def statuses(verdict):
    """Map check id -> status of a node verdict."""
    return dict((c["id"], c["status"]) for c in verdict["checks"])


def check(verdict, cid):
    """Return the check with id ``cid`` (AssertionError when absent)."""
    for item in verdict["checks"]:
        if item["id"] == cid:
            return item
    raise AssertionError("no check %s in %s" % (cid, [c["id"] for c in verdict["checks"]]))
