# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""testinfra checks run inside each node of the node_cleanup scenario (pytest --hosts=local:// via nsenter)."""

from __future__ import annotations

import json
import re

import pytest

OWNED = re.compile(r"KUBE-(SERVICES|SVC-|SEP-|NODEPORTS|POSTROUTING|MARK-MASQ|FORWARD)|FLANNEL|flanneld|CNI-")


@pytest.fixture(scope="module")
def kind(host):
    name = host.check_output("hostname")
    assert name in ("legacy", "nft", "mixed"), "not a node_cleanup test node: %s" % name
    return name


def saves(host):
    return {tool: host.check_output("%s -c" % tool) for tool in
            ("iptables-legacy-save", "ip6tables-legacy-save", "iptables-nft-save", "ip6tables-nft-save")}


def test_flannel_links_and_routes_gone(host, kind):
    for link in ("flannel.1", "flannel-v6.1", "cni0"):
        assert host.run("ip link show dev %s" % link).rc != 0, link
    routes = host.check_output("ip -o route show table all; ip -6 -o route show table all")
    assert "flannel" not in routes and "cni0" not in routes
    assert "10.244.9.0/24" not in routes
    # links that are not Flannel's stay
    for link in ("eth0", "docker0", "dummy-up"):
        assert host.run("ip link show dev %s" % link).rc == 0, link


def test_netfilter_owned_state_gone_rest_kept(host, kind):
    dumps = saves(host)
    for tool, text in dumps.items():
        rules = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
        assert not OWNED.search(re.sub(r'"[^"]*"', '""', rules)), tool
    v4 = dumps["iptables-nft-save"] if kind == "nft" else dumps["iptables-legacy-save"]
    assert re.search(r"-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT", v4)
    v6 = dumps["ip6tables-legacy-save"] if kind == "legacy" else dumps["ip6tables-nft-save"]
    assert "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT" in v6
    if kind != "nft":
        assert "-A f2b-sshd -s 203.0.113.7/32 -j REJECT" in v4
        assert ":KUBE-ROUTER-INPUT - " in v4  # kube-router not selected: kept
        assert ":DOCKER-USER - " in v4


def test_nft_ipvs_ipsets(host, kind):
    tables = host.check_output("nft list tables")
    assert "kube-proxy" not in tables and "flannel-ipv4" not in tables
    sets = host.check_output("ipset list -n").split()
    assert sets == ["admin-allow"]
    if kind == "nft":
        assert "table inet user-firewall" in tables
        state = host.file("/run/ipvs.state").content_string
        assert "10.96.0." not in state and "fd00:10:96::1" not in state
        assert "-A -t 192.168.60.10:80 -s wlc" in state
        assert host.run("ip link show dev kube-ipvs0").rc != 0


def test_cni_configs_backed_up_and_removed(host, kind):
    assert not host.file("/etc/cni/net.d/10-flannel.conflist").exists
    assert not host.file("/etc/cni/net.d/10-flannel.conflist.cilium_bak").exists
    assert host.file("/etc/cni/net.d/99-loopback.conf").exists
    backups = host.check_output("ls -d /var/lib/kubeshift/backups/cni-*").split()
    assert len(backups) == 1
    saved = host.file(backups[0] + "/10-flannel.conflist")
    assert saved.exists and json.loads(saved.content_string)["name"] == "cbr0"
    assert not host.file("/run/flannel").exists


def test_one_netfilter_backup_with_manifest(host, kind):
    backups = host.check_output("ls -d /var/lib/kubeshift/backups/netfilter-*").split()
    assert len(backups) == 1  # the idempotence run made none
    manifest = json.loads(host.file(backups[0] + "/manifest.json").content_string)
    assert manifest["owners"] == ["kube-proxy", "flannel", "cni-portmap"]
    assert manifest["removed"]
