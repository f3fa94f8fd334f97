#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) kubeshift maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: kubeshift.cilium.netfilter_purge vs the seed one-liner on a generated kube-proxy dump.

Generates a kube-proxy iptables-mode dump (5,000 services, 5 endpoints each, NodePorts: about 100,000 rules, plus a
user firewall and Docker chains), loads it into a private network namespace (``unshare -n``; the host's rules are
never touched) with the real ``iptables-restore``, and times, in each of ``--repeat`` rounds:

* the seed one-liner ``iptables-save | grep -v KUBE | grep -v FLANNEL | iptables-restore`` (with the
  ``iptables-legacy-*`` binaries by default, ``--backend nft`` for iptables-nft);
* the module's purge: the module's own code path (every backend's ``*-save -c``, parse, plan, backup files,
  ``*-restore --noflush -c`` of each changed table's purge script), with the real binaries, on the same dump
  reloaded;
* both again at twice the size (10,000 services); the one-liner's own growth is printed on stderr for
  comparison, since the binaries' cost is part of both figures.

Every figure is the median, over the rounds, of a ratio of two runs made moments apart in one round. Prints
``BENCH purge_vs_oneliner <ratio> ratio target <= 1.5``, ``BENCH purge_linearity <ratio> ratio target <= 2.2``
(end to end, binaries included) and ``BENCH purge_planner_linearity <ratio> ratio target <= 2.2`` (CPU time of
the pure parse + plan + script part alone), details on stderr, and exits 0: figures are reported, not asserted.
Needs root.
Run with the project environment: ``. tests/utils/env.sh && python tests/bench/bench_purge.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

MARKER = "KUBESHIFT_BENCH_IN_NETNS"


def generate_dump(services, endpoints=5):
    """A kube-proxy (iptables mode, 1.29-style) dump: nat + filter tables, ~20 rules per service."""
    nat_chains = [":KUBE-SERVICES - [0:0]", ":KUBE-NODEPORTS - [0:0]", ":KUBE-POSTROUTING - [0:0]",
                  ":KUBE-MARK-MASQ - [0:0]", ":KUBE-PROXY-CANARY - [0:0]", ":DOCKER - [0:0]"]
    nat_rules = [
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
        '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
        "-A DOCKER -i docker0 -j RETURN",
        "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
        "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
        "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE '
        "--random-fully",
    ]
    services_rules = []
    body = []
    for i in range(services):
        svc = "KUBE-SVC-%016X" % (0x5A17 * (i + 1))
        ext = "KUBE-EXT-%016X" % (0x5A17 * (i + 1))
        name = "ns%d/svc%d:http" % (i % 50, i)
        vip = "10.%d.%d.%d" % (96 + i // 65536, (i // 256) % 256, i % 256)
        nat_chains += [":%s - [0:0]" % svc, ":%s - [0:0]" % ext]
        services_rules.append('-A KUBE-SERVICES -d %s/32 -p tcp -m comment --comment "%s cluster IP" -m tcp '
                              "--dport 80 -j %s" % (vip, name, svc))
        body.append('-A KUBE-NODEPORTS -p tcp -m comment --comment "%s" -m tcp --dport %d -j %s'
                    % (name, 30000 + i % 2768, ext))
        body.append('-A %s -m comment --comment "masquerade traffic for %s external destinations" -j KUBE-MARK-MASQ'
                    % (ext, name))
        body.append("-A %s -j %s" % (ext, svc))
        body.append('-A %s ! -s 10.244.0.0/16 -d %s/32 -p tcp -m comment --comment "%s cluster IP" -m tcp '
                    "--dport 80 -j KUBE-MARK-MASQ" % (svc, vip, name))
        for e in range(endpoints):
            sep = "KUBE-SEP-%016X" % (0x3C1 * (i * endpoints + e + 1))
            pod = "10.244.%d.%d" % ((i * endpoints + e) // 250 % 256, (i * endpoints + e) % 250 + 2)
            nat_chains.append(":%s - [0:0]" % sep)
            left = endpoints - e
            if left > 1:
                body.append('-A %s -m comment --comment "%s -> %s:8080" -m statistic --mode random --probability '
                            "%.11f -j %s" % (svc, name, pod, 1.0 / left, sep))
            else:
                body.append('-A %s -m comment --comment "%s -> %s:8080" -j %s' % (svc, name, pod, sep))
            body.append('-A %s -s %s/32 -m comment --comment "%s" -j KUBE-MARK-MASQ' % (sep, pod, name))
            body.append('-A %s -p tcp -m comment --comment "%s" -m tcp -j DNAT --to-destination %s:8080'
                        % (sep, name, pod))
    services_rules.append('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be '
                          'the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS')
    nat = (["*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
            ":POSTROUTING ACCEPT [0:0]"] + nat_chains + nat_rules + services_rules + body + ["COMMIT"])
    filt = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]",
            ":DOCKER-USER - [0:0]", ":KUBE-FORWARD - [0:0]", ":KUBE-SERVICES - [0:0]", ":f2b-sshd - [0:0]",
            "-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd",
            "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT",
            '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
            '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
            "-A FORWARD -j DOCKER-USER",
            "-A DOCKER-USER -j RETURN",
            '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
            "-A f2b-sshd -s 203.0.113.7/32 -j REJECT --reject-with icmp-port-unreachable",
            "-A f2b-sshd -j RETURN", "COMMIT"]
    text = "\n".join(filt + nat) + "\n"
    rules = sum(1 for line in text.splitlines() if line.startswith("-A "))
    return text, rules


class Shim:
    """The few AnsibleModule members netfilter_purge uses, so the benchmark times the module's own code path."""

    check_mode = False
    _diff = False

    def __init__(self, backup_dir):
        self.params = {"owners": ["kube-proxy", "flannel", "cni-portmap"], "backup_dir": backup_dir,
                       "restore_from": None, "ipvs": True, "ipsets": True, "nft_tables": True, "binaries_path": []}

    @staticmethod
    def get_bin_path(name, required=False, opt_dirs=None):
        return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")

    @staticmethod
    def run_command(argv, data=None, binary_data=False, check_rc=False, environ_update=None):
        proc = subprocess.run(argv, input=data, capture_output=True, text=True, check=False,
                              env=dict(os.environ, **(environ_update or {})))
        return proc.returncode, proc.stdout, proc.stderr

    @staticmethod
    def warn(msg):
        sys.stderr.write("warning: %s\n" % msg)


def sh(script, data=None):
    proc = subprocess.run(["sh", "-c", script], input=data, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit("bench_purge: %s failed: %s" % (script, proc.stderr.strip()))
    return proc.stdout


BACKEND = {"legacy": "iptables-legacy", "nft": "iptables-nft"}
TOOL = BACKEND["legacy"]


def load(dump):
    """Reset every table to the dump (iptables-restore replaces each table it names)."""
    sh("%s-restore" % TOOL, data=dump)


def time_oneliner(dump):
    load(dump)
    start = time.perf_counter()
    sh("{0}-save | grep -v KUBE | grep -v FLANNEL | {0}-restore".format(TOOL))
    elapsed = time.perf_counter() - start
    left = sh("%s-save" % TOOL)
    assert "KUBE-SVC-" not in left and "dport 22 -j ACCEPT" in left, "one-liner did not purge"
    return elapsed


def time_module(dump, workdir):
    from ansible_collections.kubeshift.cilium.plugins.modules import netfilter_purge

    load(dump)
    backup = tempfile.mkdtemp(dir=workdir)
    shim = Shim(backup)
    start = time.perf_counter()
    result = netfilter_purge.purge(shim, netfilter_purge.Node(shim))
    elapsed = time.perf_counter() - start
    assert result["changed"], "module purged nothing"
    left = sh("%s-save" % TOOL)
    assert "KUBE-SVC-" not in left and "dport 22 -j ACCEPT" in left, "module did not purge"
    shutil.rmtree(backup)
    return elapsed


def planner_cpu(dump):
    """CPU seconds of the pure part (parse + plan + restore scripts) on a ``-c`` style dump."""
    from ansible_collections.kubeshift.cilium.plugins.module_utils import _netfilter as nf

    text = "".join("[0:0] " + line if line.startswith("-A ") else line for line in dump.splitlines(True))
    start = time.process_time()
    parsed = nf.parse_save(text, "bench")
    plans = nf.plan_dump(parsed, ["kube-proxy", "flannel", "cni-portmap"])
    for plan in plans:
        if plan.changed:
            parsed.purge_script(plan)
    return time.process_time() - start


def inner(args):
    global TOOL  # pylint: disable=global-statement
    TOOL = BACKEND[args.backend]
    workdir = tempfile.mkdtemp(prefix="bench-purge-")
    try:
        dump1, rules1 = generate_dump(args.services)
        dump2, rules2 = generate_dump(args.services * 2)
        # Each round times the four runs back to back and each ratio is taken within a round; the figure is the
        # median over the rounds. The machine is shared and its speed drifts over seconds: ratios of runs made
        # moments apart, not of bests picked from different moments, compare like with like.
        rounds = []
        for dummy in range(args.repeat):
            rounds.append((time_oneliner(dump1), time_module(dump1, workdir), time_oneliner(dump2),
                           time_module(dump2, workdir)))
        for one, mod1, one2, mod2 in rounds:
            sys.stderr.write("bench_purge (%s): %d services / %d rules: one-liner %.2f s, module %.2f s; "
                             "%d services / %d rules: one-liner %.2f s (x%.2f), module %.2f s (x%.2f)\n"
                             % (TOOL, args.services, rules1, one, mod1, args.services * 2, rules2, one2, one2 / one,
                                mod2, mod2 / mod1))
        print("BENCH purge_vs_oneliner %.2f ratio target <= 1.5" % statistics.median(r[1] / r[0] for r in rounds))
        print("BENCH purge_linearity %.2f ratio target <= 2.2" % statistics.median(r[3] / r[1] for r in rounds))
        plans = []
        for dummy in range(max(args.repeat, 7)):  # cheap: at least 7 rounds
            plans.append((planner_cpu(dump1), planner_cpu(dump2)))
        sys.stderr.write("bench_purge: planner (parse + plan + scripts) CPU, per round: %s\n"
                         % ", ".join("%.3f s / %.3f s" % pair for pair in plans))
        print("BENCH purge_planner_linearity %.2f ratio target <= 2.2" % statistics.median(b / a for a, b in plans))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5, help="rounds; each figure is the median over them")
    parser.add_argument("--backend", choices=sorted(BACKEND), default="legacy",
                        help="iptables backend (nft: iptables-nft itself is slow and superlinear at this size, "
                             "about 70 s for the one-liner on 100,000 rules)")
    args = parser.parse_args()
    if os.environ.get(MARKER) == "1":
        return inner(args)
    if os.geteuid() != 0:
        sys.stderr.write("bench_purge: needs root (unshare -n)\n")
        print("BENCH purge_vs_oneliner nan ratio target <= 1.5")
        print("BENCH purge_linearity nan ratio target <= 2.2")
        print("BENCH purge_planner_linearity nan ratio target <= 2.2")
        return 0
    # Re-run inside a private network namespace: everything below touches only that namespace's tables.
    env = dict(os.environ, **{MARKER: "1"})
    return subprocess.call(["unshare", "-n", sys.executable, os.path.abspath(__file__)] + sys.argv[1:], env=env)


if __name__ == "__main__":
    sys.exit(main())
