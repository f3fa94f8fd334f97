#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: requirements + per-node verdict + fleet summary + json/markdown/html report for 10,000 nodes.

Prints one line ``BENCH preflight_decide_10k <seconds> s target < 1.0`` (plus a breakdown on stderr) and exits 0;
the figure is reported, not asserted. The figure is the best wall time of ``--repeat`` runs (default 3) of the whole
pipeline; report.json is rendered with ``indent=2`` as the preflight role writes it. Run with the project environment: ``. tests/utils/env.sh``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time

from ansible_collections.kubeshift.cilium.plugins.module_utils._cilium_matrix import MODULES
from ansible_collections.kubeshift.cilium.plugins.module_utils._preflight import node_verdict, requirements
from ansible_collections.kubeshift.cilium.plugins.module_utils._report import build_report, render
from ansible_collections.kubeshift.cilium.tests.unit.plugins.filter.synthetic_facts import (
    all_matrix_options,
    make_facts,
)


def full_options(tristate):
    """A realistic ~3,000-entry option dict: the matrix options plus filler like a distro config."""
    options = all_matrix_options(value_tristate=tristate)
    for index in range(3000 - len(options)):
        options["CONFIG_FILLER_%04d" % index] = ("y", "m", "n", "250")[index % 4]
    return options


def synthetic_fleet(count):
    """``count`` node facts in a few realistic shapes (shared option dicts, as one distro build would be)."""
    builtin = full_options("y")
    modular = full_options("m")
    no_schedstats = dict(builtin, CONFIG_SCHEDSTATS="n", CONFIG_CRYPTO_USER_API_HASH="n")
    loadable = dict((m, "loadable") for m in set(MODULES.values()))
    partly_missing = dict(loadable, xt_socket="missing")
    shapes = [
        dict(options=builtin),
        dict(options=modular, modules_state=loadable, release="6.1.0-28-cloud-amd64"),
        dict(options=modular, modules_state=partly_missing, bpffs_persisted=False),
        dict(options=no_schedstats, release="6.18.44-fc", bpffs_mounted=False, bpffs_persisted=False),
        dict(options=builtin, release="4.18.0-553.el8_10.x86_64", distro_id="rhel", version_id="8.10"),
        dict(options=builtin, release="5.4.0-187-generic", distro_id="ubuntu", version_id="20.04", arch="aarch64"),
        dict(config_status="unknown", config_reason="/proc/config.gz and /boot/config-6.1.0 are missing"),
        dict(options=modular, modules_state=loadable, iptables_mixed=True,
             ports=[{"port": 8472, "protocol": "udp", "purpose": "vxlan", "owner": "kernel"}]),
    ]
    fleet = {}
    for index in range(count):
        host = "node-%05d.example.internal" % index
        fleet[host] = make_facts(hostname=host, **shapes[index % len(shapes)])
    return fleet


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10000)
    parser.add_argument("--version", default="1.19.3")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best wall time is reported")
    args = parser.parse_args()

    fleet = synthetic_fleet(args.nodes)
    values = {"kubeProxyReplacement": True, "routingMode": "tunnel", "tunnelPort": 8473,
              "hubble": {"relay": {"enabled": True}}}
    # The synthetic input is setup, not work under test: keep the collector from re-walking it.
    gc.collect()
    gc.freeze()

    best = None
    for attempt in range(max(1, args.repeat)):
        run = one_run(fleet, args.version, values)
        run["attempt"] = attempt + 1
        if best is None or run["wall"] < best["wall"]:
            best = run
    sys.stderr.write("nodes %d, checks per node %d, verdicts %s; best of %d: %s; cpu %.3f s; sizes %s\n" % (
        args.nodes, best["checks_per_node"], best["verdicts"], max(1, args.repeat), best["steps"], best["cpu"],
        ", ".join("%s %.1f MB" % (k, v / 1e6) for k, v in best["sizes"].items())))
    sys.stderr.flush()
    print("BENCH preflight_decide_%dk %.3f s target < 1.0" % (args.nodes // 1000, best["wall"]))
    return 0


def one_run(fleet, version, values):
    """Time requirements, every node verdict, the summary and the three renderings once."""
    cpu = time.process_time()
    marks = [("start", time.perf_counter())]
    req = requirements(version, values)
    results = {}
    for host, facts in fleet.items():
        results[host] = node_verdict(facts, req, host)
    marks.append(("verdicts", time.perf_counter()))
    report = build_report(results, version)
    marks.append(("summary", time.perf_counter()))
    sizes = {}
    for fmt in ("json", "markdown", "html"):
        # indent=2: what the preflight role writes to report.json
        sizes[fmt] = len(render(report, fmt, indent=2 if fmt == "json" else None))
        marks.append((fmt, time.perf_counter()))
    cpu = time.process_time() - cpu
    return {
        "wall": marks[-1][1] - marks[0][1],
        "cpu": cpu,
        "steps": ", ".join("%s %.3f s" % (marks[i][0], marks[i][1] - marks[i - 1][1]) for i in range(1, len(marks))),
        "sizes": sizes,
        "verdicts": report["summary"]["verdicts"],
        "checks_per_node": len(next(iter(results.values()))["checks"]) if results else 0,
    }


if __name__ == "__main__":
    sys.exit(main())
