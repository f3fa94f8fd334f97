# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks run inside each lab node after node_cleanup (pytest --hosts=local:// through nsenter).

The state removed was made by the real kube-proxy and flanneld of the lab; the rules that must survive were planted
by files/plant-keep-rules.sh. "No trace" is checked strictly: after the clean-up, every rule and every non-built-in
chain in every backend must be one of the planted ones.
"""
from __future__ import annotations

import os
import re

import pytest

MODE = os.environ.get("LAB_PROXY_MODE", "iptables-nft")
BACKEND = "legacy" if MODE == "iptables-legacy" else "nft"
OTHER = "nft" if BACKEND == "legacy" else "legacy"
BUILTIN = {"INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING"}

PLANTED = {
    ("iptables", "filter"): {
        "-A INPUT -p tcp -m tcp --dport 22 -m comment --comment lab-keep -j ACCEPT",
        "-A FORWARD -j LAB-KEEP",
        "-A LAB-KEEP -s 192.0.2.0/24 -j DROP",
    },
    ("iptables", "nat"): {"-A POSTROUTING -s 198.51.100.0/24 -o eth0 -m comment --comment lab-keep -j MASQUERADE"},
    ("ip6tables", "filter"): {"-A INPUT -p tcp -m tcp --dport 22 -m comment --comment lab-keep -j ACCEPT"},
}
CHAINS = {("iptables", "filter"): {"LAB-KEEP"}}
# kube-proxy's iptables mode writes a duplicate of kubelet's filter KUBE-FIREWALL chain (kube-proxy 1.34
# pkg/proxy/iptables: kubeletFirewallChain); kubelet keeps writing the same chain on every real node, so node_cleanup
# treats it as kubelet's and keeps it (kubelet is not in its default owners). Only exactly these may stay.
SHARED_WITH_KUBELET = {
    ("iptables", "filter"): {
        "-A INPUT -j KUBE-FIREWALL",
        "-A OUTPUT -j KUBE-FIREWALL",
        '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" '
        "-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
    },
    ("ip6tables", "filter"): {"-A INPUT -j KUBE-FIREWALL", "-A OUTPUT -j KUBE-FIREWALL"},
}


@pytest.fixture(scope="module")
def node(host):
    name = host.check_output("hostname")
    assert name.startswith("k8s-"), f"not a lab node: {name}"
    return name


def parse_save(text: str) -> dict:
    """{table: {"chains": set, "rules": set}} from iptables-save output."""
    out: dict = {}
    table = None
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:]
            out[table] = {"chains": set(), "rules": set()}
        elif line.startswith(":") and table:
            out[table]["chains"].add(line[1:].split()[0])
        elif line.startswith("-A ") and table:
            out[table]["rules"].add(line.strip())
    return out


@pytest.mark.parametrize("family", ["iptables", "ip6tables"])
def test_only_planted_rules_left(host, node, family):
    for backend in (BACKEND, OTHER):
        tables = parse_save(host.check_output(f"{family}-{backend}-save"))
        for table, content in tables.items():
            want = PLANTED.get((family, table), set()) if backend == BACKEND else set()
            shared = SHARED_WITH_KUBELET.get((family, table), set()) if backend == BACKEND else set()
            left = content["rules"] - want
            assert left <= shared, f"{node} {family}-{backend} {table}: left {left - shared}"
            assert want <= content["rules"], f"{node} {family}-{backend} {table}: lost {want - content['rules']}"
            extra = content["chains"] - BUILTIN
            want_chains = CHAINS.get((family, table), set()) if backend == BACKEND else set()
            allowed = want_chains | ({"KUBE-FIREWALL"} if shared else set())
            assert want_chains <= extra <= allowed, f"{node} {family}-{backend} {table}: chains {extra}"


def test_no_kube_proxy_or_flannel_nft_tables(host, node):
    tables = set(host.check_output("nft list tables").splitlines())
    assert not {t for t in tables if re.search(r"kube-proxy|flannel", t)}, f"{node}: {tables}"
    keep = host.check_output("nft list table inet lab_keep")
    assert "tcp dport 2222 accept" in keep, f"{node}: planted nft rule lost"


def test_flannel_link_routes_and_files_gone(host, node):
    assert host.run("ip link show dev flannel.1").rc != 0, f"{node}: flannel.1 left"
    routes = host.check_output("ip -o route show table all")
    assert "flannel.1" not in routes and "10.244." not in routes, f"{node}: {routes}"
    assert "192.0.2.0/24 dev keep0" in routes
    assert "10.77.0.0/24 dev eth0" in routes
    for link in ("eth0", "keep0", "keep1"):
        assert host.run(f"ip link show dev {link}").rc == 0, link
    assert not host.file("/run/flannel").exists
    assert not host.file("/etc/cni/net.d/10-flannel.conflist").exists
    assert host.file("/etc/cni/net.d/99-loopback.conf").exists


def test_backups_hold_what_was_removed(host, node):
    cni = host.check_output("ls -d /var/lib/kubeshift/backups/cni-*").split()
    assert len(cni) == 1, f"{node}: CNI backups {cni}"
    assert '"cbr0"' in host.file(cni[0] + "/10-flannel.conflist").content_string
    nf = host.check_output("ls -d /var/lib/kubeshift/backups/netfilter-*").split()
    assert len(nf) == 1, "the idempotence run must not make a second backup"
    saved = host.check_output(f"cat {nf[0]}/* 2>/dev/null || true")
    assert "FLANNEL-POSTRTG" in saved
    if MODE == "nftables":
        assert "kube-proxy" in saved
    else:
        assert "KUBE-SVC-" in saved
