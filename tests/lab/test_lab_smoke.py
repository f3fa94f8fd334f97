# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Smoke test of the Kubernetes lab (tests/lab/lab.sh): proves the lab is a real cluster.

Uses a running lab (same LAB_PREFIX/LAB_DIR) if there is one; otherwise brings one up and tears it down at the
end, checking with tests/utils/host-snapshot.sh that the host's links, routes, netfilter state and mounts are the
same before `up` and after `down`.
"""
from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

LAB_SRC = Path(__file__).resolve().parent
REPO = LAB_SRC.parent.parent
LAB_SH = LAB_SRC / "lab.sh"
SNAPSHOT = REPO / "tests" / "utils" / "host-snapshot.sh"
CHART = Path(os.environ.get("LAB_CILIUM_CHART", str(REPO.parent / "shared" / "charts" / "cilium-1.18.12.tgz")))
PREFIX = os.environ.get("LAB_PREFIX", "klab")
LAB_DIR = Path(os.environ.get("LAB_DIR", f"/run/kubeshift-lab/{PREFIX}"))
POD_CIDR = ipaddress.ip_network("10.244.0.0/16")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root (network namespaces)")


def run(*argv, check=True, timeout=300, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout, check=False, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, argv))} exited {proc.returncode}\n"
                             f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}")
    return proc


def parse_env(stdout: str) -> dict:
    lines = stdout.strip().splitlines()
    assert [ln.split("=", 1)[0] for ln in lines] == ["LAB_KUBECONFIG", "LAB_INVENTORY", "LAB_BIN"], stdout
    return dict(ln.split("=", 1) for ln in lines)


def snapshot(path: Path) -> None:
    run(SNAPSHOT, path)


def foreign(section: str, line: str) -> bool:
    """True for snapshot lines that belong to other labs running on the same machine at the same time."""
    if section.startswith("ip netns list"):
        return not line.startswith(f"{PREFIX}-")
    if section.startswith("findmnt"):
        target = line.split(" ", 1)[0]
        ours = target.startswith(f"/run/netns/{PREFIX}-") or target.startswith(str(LAB_DIR))
        return not ours and (target.startswith("/run/netns/") or target.startswith("/run/kubeshift-lab/"))
    return False


def host_diff(before: Path, after: Path) -> list:
    def lines(p: Path) -> list:
        out, section = [], ""
        for ln in p.read_text().splitlines():
            if ln.startswith("=== "):
                section = ln[4:]
            elif foreign(section, ln):
                continue
            out.append(f"{section}: {ln}")
        return out

    a, b = lines(before), lines(after)
    return [f"- {x}" for x in a if x not in b] + [f"+ {x}" for x in b if x not in a]


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    status = run(LAB_SH, "env", check=False)
    if status.returncode == 0:
        yield parse_env(status.stdout)
        return
    snaps = tmp_path_factory.mktemp("host")
    snapshot(snaps / "before")
    up = run(LAB_SH, "up", timeout=600)
    try:
        yield parse_env(up.stdout)
    finally:
        run(LAB_SH, "down", timeout=120)
        run(LAB_SH, "down", timeout=120)  # twice is fine
        snapshot(snaps / "after")
    diff = host_diff(snaps / "before", snaps / "after")
    assert not diff, "host state changed between lab up and lab down:\n" + "\n".join(diff)
    assert not LAB_DIR.exists(), f"{LAB_DIR} left behind"


@pytest.fixture(scope="session")
def kubectl(lab):
    def _kubectl(*args, check=True):
        return run(Path(lab["LAB_BIN"]) / "kubectl", "--kubeconfig", lab["LAB_KUBECONFIG"], *args, check=check)
    return _kubectl


@pytest.fixture(scope="session")
def nodes(kubectl):
    return {n["metadata"]["name"]: n for n in json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"]}


@pytest.fixture(scope="session")
def proxy_mode():
    return (LAB_DIR / ".k8s" / "params").read_text().split()[0]


def in_node(name: str, *cmd, check=True) -> subprocess.CompletedProcess:
    pid = (LAB_DIR / name / "pid").read_text().strip()
    return run("nsenter", "-t", pid, "-n", "-m", "-u", "-i", "--", *cmd, check=check)


def internal_ip(node: dict) -> str:
    return next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")


def test_up_is_idempotent_and_prints_three_lines(lab):
    start = time.monotonic()
    again = run(LAB_SH, "up")
    assert parse_env(again.stdout) == lab
    assert time.monotonic() - start < 10, "a second `up` must be a no-op"
    for key in ("LAB_KUBECONFIG", "LAB_INVENTORY"):
        assert Path(lab[key]).is_file(), key
    for tool in ("kubectl", "helm"):
        assert os.access(Path(lab["LAB_BIN"]) / tool, os.X_OK), tool


def test_nodes_ready_with_pod_cidrs(nodes):
    assert len(nodes) >= 1
    cidrs = set()
    for name, node in nodes.items():
        ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}
        assert ready.get("Ready") == "True", f"{name} not Ready: {ready}"
        # Set to False by the real flanneld once its subnet is up.
        assert ready.get("NetworkUnavailable") == "False", f"{name}: flanneld did not report the network: {ready}"
        cidr = ipaddress.ip_network(node["spec"]["podCIDR"])
        assert cidr.subnet_of(POD_CIDR) and cidr.prefixlen == 24, f"{name}: podCIDR {cidr}"
        cidrs.add(cidr)
        assert node["metadata"]["annotations"].get("flannel.alpha.coreos.com/public-ip") == internal_ip(node)
    assert len(cidrs) == len(nodes), "podCIDRs must be distinct"


def test_kubectl_get_nodes_table(kubectl, nodes):
    out = kubectl("get", "nodes").stdout
    for name in nodes:
        assert re.search(rf"^{re.escape(name)}\s+Ready\s", out, re.M), out


def test_daemonsets_and_deployments_rolled_out(kubectl, nodes):
    for ns, obj in (("kube-system", "ds/kube-proxy"), ("kube-flannel", "ds/kube-flannel-ds"),
                    ("kube-system", "deploy/coredns"), ("lab-demo", "deploy/echo")):
        kubectl("-n", ns, "rollout", "status", obj, "--timeout=60s")
    for ns, ds in (("kube-system", "kube-proxy"), ("kube-flannel", "kube-flannel-ds")):
        st = json.loads(kubectl("-n", ns, "get", "ds", ds, "-o", "json").stdout)["status"]
        assert st["desiredNumberScheduled"] == st["numberReady"] == len(nodes), st


def test_kubeadm_objects(kubectl):
    for ns, cm in (("kube-system", "kubeadm-config"), ("kube-system", "kubelet-config"), ("kube-system", "kube-proxy"),
                   ("kube-public", "cluster-info"), ("kube-flannel", "kube-flannel-cfg")):
        kubectl("-n", ns, "get", "cm", cm)
    net_conf = json.loads(json.loads(kubectl("-n", "kube-flannel", "get", "cm", "kube-flannel-cfg", "-o", "json")
                                     .stdout)["data"]["net-conf.json"])
    assert net_conf["Backend"]["Type"] == "vxlan" and net_conf["Network"] == str(POD_CIDR)


def echo_endpoints(kubectl) -> set:
    pods = json.loads(kubectl("-n", "lab-demo", "get", "pods", "-l", "app=echo", "-o", "json").stdout)["items"]
    ips = {p["status"]["podIP"] for p in pods}
    assert len(ips) == 3 and all(ipaddress.ip_address(ip) in POD_CIDR for ip in ips), ips
    return ips


def test_kube_proxy_rules_in_every_node(kubectl, nodes, proxy_mode):
    ips = echo_endpoints(kubectl)
    svc_ip = json.loads(kubectl("-n", "lab-demo", "get", "svc", "echo", "-o", "json").stdout)["spec"]["clusterIP"]
    for name in nodes:
        if proxy_mode == "nftables":
            table = in_node(name, "nft", "list", "table", "ip", "kube-proxy").stdout
            assert re.search(r"chain service-\S+-lab-demo/echo/tcp/http", table), f"{name}: no service chain"
            for ip in ips:
                assert f"dnat to {ip}:8080" in table, f"{name}: no endpoint {ip} in nft table kube-proxy"
            assert svc_ip in table
        else:
            save = "iptables-legacy-save" if proxy_mode == "iptables-legacy" else "iptables-nft-save"
            nat = in_node(name, save, "-t", "nat").stdout
            assert re.search(r"^:KUBE-SVC-\S+", nat, re.M) and re.search(r"^:KUBE-SEP-\S+", nat, re.M), name
            assert re.search(rf"-d {re.escape(svc_ip)}/32 .*lab-demo/echo:http cluster IP.* -j KUBE-SVC-", nat), name
            for ip in ips:
                assert f"--to-destination {ip}:8080" in nat, f"{name}: no KUBE-SEP DNAT to {ip}"
            assert "--dport 30080" in nat, f"{name}: no NodePort rule"


def test_flannel_state_in_every_node(nodes, proxy_mode):
    save = "iptables-legacy-save" if proxy_mode == "iptables-legacy" else "iptables-nft-save"
    for name, node in nodes.items():
        link = in_node(name, "ip", "-d", "link", "show", "dev", "flannel.1").stdout
        assert "vxlan id 1" in link and f"local {internal_ip(node)}" in link and "dstport 8472" in link, link
        env = dict(ln.split("=", 1) for ln in in_node(name, "cat", "/run/flannel/subnet.env").stdout.split())
        own = ipaddress.ip_network(node["spec"]["podCIDR"])
        assert ipaddress.ip_interface(env["FLANNEL_SUBNET"]).network == own, env
        routes = in_node(name, "ip", "route", "show", "dev", "flannel.1").stdout
        for other, onode in nodes.items():
            if other != name:
                assert onode["spec"]["podCIDR"] in routes, f"{name}: no route to {other}'s podCIDR:\n{routes}"
        rules = in_node(name, save).stdout
        assert ":FLANNEL-POSTRTG" in rules and ":FLANNEL-FWD" in rules, f"{name}: no FLANNEL chains"
        assert in_node(name, "test", "-s", "/etc/cni/net.d/10-flannel.conflist", check=False).returncode == 0


def test_inventory_reaches_every_node(lab, nodes):
    inv = json.loads(run("ansible-inventory", "-i", lab["LAB_INVENTORY"], "--list").stdout)
    assert set(inv["k8s_cluster"]["children"]) >= {"kube_control_plane", "kube_node"}
    hosts = set(inv["kube_control_plane"]["hosts"]) | set(inv.get("kube_node", {}).get("hosts", []))
    assert hosts == set(nodes)
    out = run("ansible", "-i", lab["LAB_INVENTORY"], "k8s_cluster", "-m", "ansible.builtin.command",
              "-a", "hostname", "-o").stdout
    for name in nodes:
        assert re.search(rf"^{re.escape(name)} \| CHANGED \| rc=0 \| \(stdout\) {re.escape(name)}$", out, re.M), out


def test_helm_install_cilium_wait(lab, kubectl, nodes):
    if not CHART.is_file():
        pytest.fail(f"Cilium chart {CHART} not found (set LAB_CILIUM_CHART)")
    helm = [Path(lab["LAB_BIN"]) / "helm", "--kubeconfig", lab["LAB_KUBECONFIG"]]
    ns_ip = internal_ip(next(iter(nodes.values())))
    run(*helm, "uninstall", "lab-smoke-cilium", "-n", "kube-system", "--wait", check=False)
    try:
        run(*helm, "install", "lab-smoke-cilium", CHART, "-n", "kube-system", "--wait", "--timeout", "3m",
            "--set", "kubeProxyReplacement=true", "--set", f"k8sServiceHost={ns_ip}", "--set", "k8sServicePort=6443")
        st = json.loads(kubectl("-n", "kube-system", "get", "ds", "cilium", "-o", "json").stdout)["status"]
        assert st["numberReady"] == st["desiredNumberScheduled"] == len(nodes), st
        dep = json.loads(kubectl("-n", "kube-system", "get", "deploy", "cilium-operator", "-o", "json").stdout)
        assert dep["status"].get("availableReplicas") == dep["spec"]["replicas"], dep["status"]
        status = run(*helm, "status", "lab-smoke-cilium", "-n", "kube-system", "-o", "json").stdout
        assert json.loads(status)["info"]["status"] == "deployed"
    finally:
        run(*helm, "uninstall", "lab-smoke-cilium", "-n", "kube-system", "--wait", check=False)
    left = kubectl("-n", "kube-system", "get", "pods", "-l", "k8s-app=cilium", "-o", "name").stdout
    assert not left.strip(), f"cilium pods left after uninstall: {left}"
