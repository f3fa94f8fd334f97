# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""netfilter_purge next to `kube-proxy --cleanup`, on state made by the real kube-proxy and flanneld.

For each kube-proxy mode (LAB_COMPARE_MODES, default all three) a one-node lab of its own (prefix kcmp, API port
36454) is brought up; the test waits until kube-proxy and flanneld have written their state, stops both programs,
plants rules that belong to nobody, and takes a snapshot of the node (iptables-save of both backends and both
families, the native nftables tables, ipsets, links). Then:

A. `kubeshift.cilium.netfilter_purge` (ad hoc `ansible`, community.docker.nsenter into the node) -> snapshot ->
   `restore_from` its backup -> the snapshot must equal the original one;
B. the real `kube-proxy --cleanup` inside the node (same config file as the running kube-proxy) -> snapshot.

What each removed and left is printed as a Markdown table; KUBESHIFT_UPDATE_DOCS=1 also writes it to
docs/cleanup-vs-kube-proxy-cleanup.md. The lab is torn down after each mode and no kcmp-* netns may remain.
"""
from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import labkit
from labkit import run

LAB_SRC = Path(__file__).resolve().parent
REPO = LAB_SRC.parent.parent
LAB_SH = LAB_SRC / "lab.sh"
DOC = REPO / "docs" / "cleanup-vs-kube-proxy-cleanup.md"
PREFIX = "kcmp"
LAB_DIR = Path(f"/run/kubeshift-lab/{PREFIX}")
API_PORT = "36454"
NODE = "k8s-ctr"
ALL_MODES = ("iptables-legacy", "iptables-nft", "nftables")
MODES = tuple(os.environ.get("LAB_COMPARE_MODES", " ".join(ALL_MODES)).split())
SAVES = ("iptables-legacy-save", "iptables-nft-save", "ip6tables-legacy-save", "ip6tables-nft-save")
PLANTED_RULE = "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"
PLANTED_NFT = "inet kcmp_user"
SERVICE_CHAIN = re.compile(r"^(KUBE-SVC-|KUBE-SEP-|KUBE-SERVICES$)")
# Chain names with a hash in them are grouped in the table (the hashes change from run to run).
HASHED = (re.compile(r"^(KUBE-(?:SVC|SEP|SVL|EXT|FW|XLB))-[A-Z0-9]{16}$"),
          re.compile(r"^(endpoint|service|external|firewall)-[A-Z0-9]{8}-.*$"))

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root (network namespaces)")

for _mode in MODES:
    if _mode not in ALL_MODES:
        raise ValueError(f"LAB_COMPARE_MODES: '{_mode}' is not one of {', '.join(ALL_MODES)}")


def lab_env(mode: str) -> dict:
    return labkit.lab_env(PREFIX, API_PORT, NODE, LAB_PROXY_MODE=mode)


def lab_netns() -> list:
    return labkit.lab_netns(PREFIX)


def in_node(*cmd, check=True) -> subprocess.CompletedProcess:
    pid = (LAB_DIR / NODE / "pid").read_text().strip()
    return run("nsenter", "-t", pid, "-n", "-m", "-u", "-i", "--", *cmd, check=check)


# --- snapshots ---------------------------------------------------------------------------------------------------

def norm_save(text: str) -> str:
    """iptables-save text without its date comments and with counters zeroed (the node keeps passing packets)."""
    lines = [re.sub(r"\[\d+:\d+\]", "[0:0]", ln) for ln in text.splitlines() if not ln.startswith("#")]
    return "\n".join(lines)


def snapshot() -> dict:
    snap = {}
    for save in SAVES:
        snap[save] = norm_save(in_node(save).stdout)
    # Tables iptables-nft manages are compared through iptables-nft-save (a restore re-creates them with another
    # chain order in `nft list` output); the native tables (kube-proxy's, the planted one) are compared as text.
    managed = {f"{fam} {t}" for fam, save in (("ip", "iptables-nft-save"), ("ip6", "ip6tables-nft-save"))
               for t in re.findall(r"^\*(\S+)$", snap[save], re.M)}
    listing = in_node("nft", "list", "tables")
    tables = {}
    for ln in listing.stdout.splitlines():
        name = ln[len("table "):].strip() if ln.startswith("table ") else ""
        if name and name not in managed:
            tables[name] = in_node("nft", "-s", "list", "table", *name.split()).stdout
    snap["nft"] = tables
    snap["ipset"] = sorted(in_node("ipset", "list", "-n").stdout.split())
    links = in_node("ip", "-o", "link").stdout.splitlines()
    snap["links"] = sorted(ln.split(":")[1].strip().split("@")[0] for ln in links)
    return snap


def save_items(text: str) -> tuple:
    """(chains, rules) of one iptables-save text, as sets of 'table CHAIN' and 'table -A ...'."""
    chains, rules, table = set(), set(), ""
    for ln in text.splitlines():
        if ln.startswith("*"):
            table = ln[1:]
        elif ln.startswith(":"):
            chains.add(f"{table} {ln[1:].split()[0]}")
        elif ln.startswith("-A "):
            rules.add(f"{table} {ln}")
    return chains, rules


def builtin(chain: str) -> bool:
    return chain.split()[1] in ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")


def nft_chains(tables: dict) -> set:
    return {f"{t} {m}" for t, body in tables.items() for m in re.findall(r"^\s*chain (\S+) \{", body, re.M)}


def categories(snap: dict) -> dict:
    """Sets per category, for the side-by-side comparison."""
    cats = {}
    for save in SAVES:
        chains, rules = save_items(snap[save])
        name = save[:-len("-save")]
        cats[f"{name} chains"] = {c for c in chains if not builtin(c)}
        cats[f"{name} rules"] = rules
    cats["nft tables"] = set(snap["nft"])
    cats["nft chains"] = nft_chains(snap["nft"])
    cats["ipsets"] = set(snap["ipset"])
    cats["links"] = set(snap["links"])
    return cats


def all_chains(snap: dict) -> set:
    out = set()
    for save in SAVES:
        out |= {c.split()[1] for c in save_items(snap[save])[0]}
    return out


def all_rules(snap: dict) -> set:
    out = set()
    for save in SAVES:
        out |= {r.split(" ", 1)[1] for r in save_items(snap[save])[1]}
    return out


# --- the lab and the two clean-ups -------------------------------------------------------------------------------

@pytest.fixture(params=MODES)
def lab(request):
    mode = request.param
    env = lab_env(mode)
    if LAB_DIR.exists() or lab_netns():
        run(LAB_SH, "down", env=env, timeout=120)  # a lab of this test left by an interrupted run

    def teardown():
        run(LAB_SH, "down", env=env, timeout=120)
        left = lab_netns()
        assert not left, f"{PREFIX}-* network namespaces left after lab.sh down: {left}"
        assert not LAB_DIR.exists(), f"{LAB_DIR} left behind"

    request.addfinalizer(teardown)
    up = run(LAB_SH, "up", env=env, timeout=600)
    inventory = dict(ln.split("=", 1) for ln in up.stdout.strip().splitlines())["LAB_INVENTORY"]
    return {"mode": mode, "env": env, "inventory": inventory}


def wait_for_endpoints(mode: str, timeout: float = 90) -> None:
    """Until kube-proxy has written the demo Service with endpoints (not only a 'has no endpoints' reject)."""
    deadline = time.monotonic() + timeout
    while True:
        if mode == "nftables":
            out = in_node("nft", "list", "table", "ip", "kube-proxy", check=False).stdout
            ok = re.search(r"chain endpoint-\S+lab-demo/echo/tcp/http__", out) is not None
        else:
            out = in_node("iptables-save", "-t", "nat", check=False).stdout
            ok = re.search(r'^-A KUBE-SEP-\S+ .*"lab-demo/echo:http"', out, re.M) is not None
        if ok:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"kube-proxy ({mode}) did not write endpoints of lab-demo/echo in {timeout} s")
        time.sleep(1)


def ansible_module(inventory: str, args: str) -> dict:
    ansible = shutil.which("ansible", path=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    assert ansible, "ansible not found (source tests/utils/env.sh)"
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
               ANSIBLE_NOCOLOR="1")
    proc = run(ansible, "-i", inventory, NODE, "-m", "kubeshift.cilium.netfilter_purge", "-a", args,
               check=False, env=env)
    try:
        result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"][NODE]
    except (ValueError, KeyError, IndexError) as exc:
        raise AssertionError(f"ansible output not understood ({exc}):\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    assert proc.returncode == 0 and not result.get("failed"), f"netfilter_purge {args} failed: {result.get('msg')}"
    return result


def kube_proxy_cleanup(mode: str) -> subprocess.CompletedProcess:
    kbin = run(LAB_SRC / "build.sh", "--print-bin", "kubernetes").stdout.strip()
    # What an operator runs in a kube-proxy pod: the DaemonSet's config (mode: iptables or nftables) plus --cleanup.
    return in_node(f"{kbin}/kube-proxy", "--cleanup", "--config=/var/lib/kube-proxy/config.conf",
                   f"--hostname-override={NODE}", check=False)


RESULTS: dict = {}


def to_terminal(config, text: str) -> None:
    """Print past pytest's output capture (the table is the point of the run)."""
    capman = config.pluginmanager.getplugin("capturemanager")
    with capman.global_and_fixture_disabled():
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def test_cleanup_comparison(lab, request):
    mode, start = lab["mode"], time.monotonic()
    wait_for_endpoints(mode)
    for prog in ("kube-proxy", "flanneld"):
        run(LAB_SH, "stop", prog, env=lab["env"])
    in_node("iptables", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT")
    in_node("nft", "add table inet kcmp_user; "
                   "add chain inet kcmp_user input { type filter hook input priority 10; policy accept; }; "
                   "add rule inet kcmp_user input tcp dport 2222 accept")
    before = snapshot()

    # The state is real: kube-proxy's service rules, Flannel's chains, the planted rule and table.
    chains = all_chains(before)
    if mode == "nftables":
        assert {"ip kube-proxy", "ip6 kube-proxy"} <= set(before["nft"]), sorted(before["nft"])
        assert re.search(r"chain service-\S+-lab-demo/echo/", before["nft"]["ip kube-proxy"])
    else:
        assert {c for c in chains if SERVICE_CHAIN.match(c)} >= {"KUBE-SERVICES"}
        assert any(c.startswith("KUBE-SVC-") for c in chains) and any(c.startswith("KUBE-SEP-") for c in chains)
    assert {"FLANNEL-POSTRTG", "FLANNEL-FWD"} <= chains, sorted(chains)
    assert PLANTED_RULE in all_rules(before) and PLANTED_NFT in before["nft"]
    assert "flannel.1" in before["links"]

    # A: netfilter_purge, then put everything back from its backup.
    purge = ansible_module(lab["inventory"], "")
    assert purge["changed"] and purge["backup_dir"]
    after_purge = snapshot()
    restore = ansible_module(lab["inventory"], f"restore_from={purge['backup_dir']}")
    assert restore["changed"]
    restored = snapshot()
    for key in before:
        assert restored[key] == before[key], f"{mode}: {key} differs after restore_from={purge['backup_dir']}"

    # B: the real kube-proxy --cleanup on the same state.
    kp = kube_proxy_cleanup(mode)
    after_kp = snapshot()
    assert kp.returncode == 0, f"kube-proxy --cleanup exited {kp.returncode}: {kp.stderr[-2000:]}"

    for who, snap in (("netfilter_purge", after_purge), ("kube-proxy --cleanup", after_kp)):
        left = all_chains(snap)
        assert not {c for c in left if SERVICE_CHAIN.match(c)}, f"{who} left service chains: {sorted(left)}"
        assert not {"ip kube-proxy", "ip6 kube-proxy"} & set(snap["nft"]), f"{who} left kube-proxy's nft table"
        # Rules and tables of nobody's: both leave them alone.
        assert PLANTED_RULE in all_rules(snap), f"{who} removed the planted rule"
        assert snap["nft"].get(PLANTED_NFT) == before["nft"][PLANTED_NFT], f"{who} changed {PLANTED_NFT}"
        # Neither touches links (flannel.1 is node_cleanup's business).
        assert snap["links"] == before["links"], f"{who} changed links"

    # The point of the comparison: only netfilter_purge removes Flannel's chains and rules.
    assert not {c for c in all_chains(after_purge) if c.startswith("FLANNEL-")}
    assert not [r for r in all_rules(after_purge) if "flanneld" in r]
    assert {"FLANNEL-POSTRTG", "FLANNEL-FWD"} <= all_chains(after_kp)
    flannel_rules = [r for r in all_rules(before) if "flanneld" in r]
    assert flannel_rules and set(flannel_rules) <= all_rules(after_kp)

    # Whatever kube-proxy --cleanup removes, netfilter_purge removes too; what only netfilter_purge removes is
    # Flannel's (chains FLANNEL-*, rules commented flanneld).
    b, p, k = categories(before), categories(after_purge), categories(after_kp)
    for cat in b:
        assert not (b[cat] - k[cat]) - (b[cat] - p[cat]), f"{cat}: removed by kube-proxy --cleanup only"
        for item in (b[cat] - p[cat]) - (b[cat] - k[cat]):
            assert "FLANNEL-" in item or "flanneld" in item, f"{cat}: {item} removed by netfilter_purge only"

    # Observed in all three modes: the only KUBE-* chain either leaves is kubelet's filter KUBE-FIREWALL (kube-proxy
    # 1.34 writes a copy of it in iptables mode); netfilter_purge reports it as kubelet's, kube-proxy keeps it.
    kube_left = {who: {f"{save} {c}" for save in SAVES for c in save_items(snap[save])[0] if "KUBE-" in c}
                 for who, snap in (("purge", after_purge), ("kp", after_kp))}
    expected = set() if mode == "nftables" else {
        f"{save} filter KUBE-FIREWALL" for save in SAVES if ("legacy" in save) == (mode == "iptables-legacy")}
    assert kube_left["purge"] == kube_left["kp"] == expected, kube_left
    unowned = {(u["chain"], u["owner"]) for u in purge["unowned"]}
    assert unowned == ({("KUBE-FIREWALL", "kubelet")} if expected else set()), unowned

    RESULTS[mode] = {
        "before": b, "purge": p, "kp": k,
        "purge_unowned": sorted({f"{u['chain']} ({u['owner']})" for u in purge["unowned"]}),
        "kp_rc": kp.returncode, "kp_output": (kp.stdout + kp.stderr).strip(),
        "seconds": round(time.monotonic() - start, 1),
    }
    to_terminal(request.config, "\n" + render_mode(mode, RESULTS[mode]))


# --- the report ----------------------------------------------------------------------------------------------------

def short(items: set) -> str:
    """Chain/table names, hashed ones grouped ('KUBE-SVC-* ×3'); rules are only counted."""
    groups: dict = {}
    for it in sorted(items):
        prefix, name = it.rsplit(" ", 1) if " " in it else ("", it)
        for rx in HASHED:
            m = rx.match(name)
            if m:
                name = f"{m.group(1)}-*"
                break
        key = f"{prefix} {name}".strip()
        groups[key] = groups.get(key, 0) + 1
    return ", ".join(f"`{k}` ×{n}" if n > 1 else f"`{k}`" for k, n in groups.items()) or "—"


def cell(items: set, kind: str) -> str:
    if not items:
        return "—"
    if kind == "rules":
        return str(len(items))
    if kind == "nft chains":
        per: dict = {}
        for it in items:
            table = " ".join(it.split()[:2])
            per[table] = per.get(table, 0) + 1
        return f"{len(items)}: " + ", ".join(f"`{t}` {n}" for t, n in sorted(per.items()))
    return f"{len(items)}: {short(items)}"


def render_mode(mode: str, res: dict) -> str:
    before, purge, kp = res["before"], res["purge"], res["kp"]
    out = [f"### kube-proxy mode `{mode}`", "",
           "| Category | Before | netfilter_purge removed | netfilter_purge left | kube-proxy --cleanup removed "
           "| kube-proxy --cleanup left |",
           "| --- | --- | --- | --- | --- | --- |"]
    for cat, items in before.items():
        after = (purge[cat], kp[cat])
        if not items and not any(after):
            continue
        kind = "rules" if cat.endswith(" rules") else cat
        row = [cat, cell(items, kind)]
        for a in after:
            row += [cell(items - a, kind), cell(items & a, kind)]
        out.append("| " + " | ".join(row) + " |")
    only = []
    for who, mine, other in (("netfilter_purge", purge, kp), ("kube-proxy --cleanup", kp, purge)):
        gone = []
        for cat, items in before.items():
            diff = (items - mine[cat]) - (items - other[cat])
            if diff:
                gone.append(f"{cat} {cell(diff, 'rules' if cat.endswith(' rules') else cat)}")
        only.append(f"- Removed only by {who}: {'; '.join(gone) if gone else 'nothing'}.")
    out[1:1] = [""] + only
    extra = [f"{cat} (by {who})" for cat in before for who, a in (("netfilter_purge", purge), ("kube-proxy", kp))
             if a[cat] - before[cat]]
    out += ["", f"Added by either: {', '.join(extra) if extra else 'nothing'}. "
            f"netfilter_purge reported as not its owners' (left): {', '.join(res['purge_unowned']) or 'nothing'}. "
            f"`kube-proxy --cleanup` exited {res['kp_rc']}"
            f"{' and printed: ' + repr(res['kp_output'][:300]) if res['kp_output'] else ' and printed nothing'}.", ""]
    for who, a in (("netfilter_purge", purge), ("kube-proxy --cleanup", kp)):
        labelled = sorted(f"{cat.split()[0]} {r}" for cat in before if cat.endswith(" rules")
                          for r in before[cat] & a[cat])
        if labelled:
            out += [f"Rules left by {who}:", "", "```"] + labelled + ["```", ""]
    return "\n".join(out)


@pytest.fixture(scope="module", autouse=True)
def report(request):
    yield
    if not RESULTS:
        return
    kp_version = run(LAB_SRC / "build.sh", "--print-version", "kubernetes").stdout.strip()
    head = ["# netfilter_purge next to `kube-proxy --cleanup`", "",
            f"Generated by `tests/lab/test_cleanup_comparison.py` on "
            f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} from a real run: "
            f"kube-proxy {kp_version} (built from `k8s.io/kubernetes`), flanneld "
            f"{run(LAB_SRC / 'build.sh', '--print-version', 'flannel').stdout.strip()}, one lab node, "
            f"modes {', '.join(f'`{m}`' for m in RESULTS)}. Regenerate with "
            "`KUBESHIFT_UPDATE_DOCS=1 tests/lab/lab.sh test` (or run the test alone, see `tests/lab/README.md`).", "",
            "The real kube-proxy and flanneld made the state, then both were stopped (`lab.sh stop`). Two rules that "
            "belong to nobody were planted first: `iptables -A INPUT -p tcp --dport 22 -j ACCEPT` (the backend of the "
            "mode) and a native nft table `inet kcmp_user`. Then, on the same state: "
            "`kubeshift.cilium.netfilter_purge` with its default owners (kube-proxy, flannel, cni-portmap), a "
            "snapshot, `restore_from` its backup (the state compared equal to the original), then "
            "`kube-proxy --cleanup --config=/var/lib/kube-proxy/config.conf` (the DaemonSet's config) and a snapshot.",
            "",
            "Chain names are `table CHAIN` (iptables) or `family table chain` (nft); chains with a hash are grouped. "
            "Rule cells are counts. Built-in chains are not listed; `nft` rows cover native tables only (the tables "
            "iptables-nft manages are the `iptables-nft`/`ip6tables-nft` rows). Links: neither tool deletes "
            "`flannel.1` (the `node_cleanup` role does).", ""]
    body = [render_mode(m, RESULTS[m]) for m in ALL_MODES if m in RESULTS]
    text = "\n".join(head + body).rstrip() + "\n"
    if os.environ.get("KUBESHIFT_UPDATE_DOCS") != "1":
        return
    if set(RESULTS) != set(ALL_MODES):
        to_terminal(request.config, f"\n{DOC} not written: only {', '.join(RESULTS)} ran (it needs all three modes)")
        return
    DOC.write_text(text)
    to_terminal(request.config, f"\nwrote {DOC}")
