# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""flannel_removal on a Flannel installed as a Helm release, against the lab's real API server.

A one-node lab of its own (prefix kfh, API port 36455) is brought up. Its manifest Flannel (DaemonSet, ConfigMap,
ServiceAccount, ClusterRole, ClusterRoleBinding in kube-flannel) is read back, deleted, and installed again with the
real helm binary from a small local chart holding the same objects, so the Helm labels and annotations are the ones
Helm writes. Then cluster_facts + flannel_removal run through ansible-playbook: the release must be uninstalled, the
objects and the namespace gone, every object (and the release) saved as YAML, and a second run must change nothing.
The lab is torn down at the end and no kfh-* netns may remain.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import labkit
from labkit import run

LAB_SRC = Path(__file__).resolve().parent
REPO = LAB_SRC.parent.parent
LAB_SH = LAB_SRC / "lab.sh"
PREFIX = "kfh"
API_PORT = "36455"
NS = "kube-flannel"
RELEASE = "flannel"
# kind, namespaced?, name: the objects of the manifest Flannel that the chart takes over.
CHART_OBJECTS = (
    ("DaemonSet", True, "kube-flannel-ds"),
    ("ConfigMap", True, "kube-flannel-cfg"),
    ("ServiceAccount", True, "flannel"),
    ("ClusterRole", False, "flannel"),
    ("ClusterRoleBinding", False, "flannel"),
)
NOISE = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation", "selfLink",
         "deletionTimestamp", "ownerReferences")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root (network namespaces)")


def lab_env() -> dict:
    return labkit.lab_env(PREFIX, API_PORT, "k8s-ctr")


def lab_netns() -> list:
    return labkit.lab_netns(PREFIX)


@pytest.fixture(scope="module")
def lab():
    started = time.monotonic()
    try:
        out = run("bash", LAB_SH, "up", env=lab_env(), timeout=600).stdout
        info = dict(re.findall(r"^(LAB_[A-Z]+)=(.*)$", out, re.M))
        assert {"LAB_KUBECONFIG", "LAB_INVENTORY", "LAB_BIN"} <= set(info), out[-2000:]
        print(f"lab up in {time.monotonic() - started:.1f} s")
        yield info
    finally:
        run("bash", LAB_SH, "down", env=lab_env(), timeout=300)
        assert not lab_netns(), f"netns left behind: {lab_netns()}"


class Kube:
    def __init__(self, info: dict):
        self.kubeconfig = info["LAB_KUBECONFIG"]
        self.kubectl_bin = Path(info["LAB_BIN"]) / "kubectl"
        self.helm_bin = (Path(info["LAB_BIN"]) / "helm").resolve()

    def kubectl(self, *args, check=True) -> subprocess.CompletedProcess:
        return run(self.kubectl_bin, "--kubeconfig", self.kubeconfig, *args, check=check)

    def helm(self, *args, check=True) -> subprocess.CompletedProcess:
        return run(self.helm_bin, "--kubeconfig", self.kubeconfig, *args, check=check)

    def get(self, kind: str, name: str, namespaced: bool) -> subprocess.CompletedProcess:
        return self.kubectl("get", kind, name, *(("-n", NS) if namespaced else ()), "-o", "yaml", check=False)

    def releases(self) -> list:
        return [r["name"] for r in yaml.safe_load(self.helm("list", "-A", "-o", "yaml").stdout) or []]


def clean(obj: dict) -> dict:
    obj.pop("status", None)
    meta = obj["metadata"]
    for key in NOISE:
        meta.pop(key, None)
    annotations = meta.get("annotations") or {}
    annotations.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    annotations.pop("deprecated.daemonset.template.generation", None)
    if not annotations:
        meta.pop("annotations", None)
    return obj


def install_flannel_chart(kube: Kube, chart: Path) -> None:
    """Replace the manifest Flannel with a Helm release made of the same objects (the namespace stays)."""
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(yaml.safe_dump({"apiVersion": "v2", "name": "flannel", "version": "0.28.10",
                                                      "appVersion": "v0.28.10", "type": "application"}))
    (chart / "values.yaml").write_text(yaml.safe_dump({"podCidr": "10.244.0.0/16"}))
    for kind, namespaced, name in CHART_OBJECTS:
        got = kube.get(kind, name, namespaced)
        assert got.returncode == 0, f"the lab has no {kind} {name}: {got.stderr}"
        obj = clean(yaml.safe_load(got.stdout))
        (chart / "templates" / f"{kind.lower()}.yaml").write_text(yaml.safe_dump(obj, sort_keys=False))
    for kind, namespaced, name in CHART_OBJECTS:
        kube.kubectl("delete", kind, name, *(("-n", NS) if namespaced else ()), "--wait=true")
    kube.helm("install", RELEASE, chart, "-n", NS, "--wait=false", "--set", "podCidr=10.99.0.0/16")
    ds = yaml.safe_load(kube.get("DaemonSet", "kube-flannel-ds", True).stdout)
    # What cluster_facts reads to call Flannel a Helm release (plugins/module_utils/_cluster.py describe_workload).
    assert ds["metadata"]["labels"].get("app.kubernetes.io/managed-by") == "Helm"
    assert ds["metadata"]["annotations"].get("meta.helm.sh/release-name") == RELEASE
    assert ds["metadata"]["annotations"].get("meta.helm.sh/release-namespace") == NS
    assert RELEASE in kube.releases()


def write_playbook(tmp: Path, kube: Kube, backup: Path) -> Path:
    play = [{
        "name": "Remove a Helm-installed Flannel",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "cilium_kubeconfig": kube.kubeconfig,
            "cilium_backup_dir": str(backup),
            "flannel_removal_helm_binary": str(kube.helm_bin),
        },
        "tasks": [
            {"name": "Read the cluster", "ansible.builtin.include_role": {"name": "kubeshift.cilium.cluster_facts"}},
            {"name": "Remove Flannel", "ansible.builtin.include_role": {"name": "kubeshift.cilium.flannel_removal"}},
        ],
    }]
    path = tmp / "remove-flannel.yml"
    path.write_text("---\n" + yaml.safe_dump(play, sort_keys=False))
    return path


def playbook(path: Path, *extra) -> tuple:
    env = dict(os.environ)
    env.update(ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    started = time.monotonic()
    proc = run(Path(sys.executable).parent / "ansible-playbook", "-i", "localhost,", path, *extra,
               check=False, timeout=600, env=env)
    elapsed = time.monotonic() - started
    recap = re.search(r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)",
                      proc.stdout, re.M)
    assert proc.returncode == 0 and recap, \
        f"ansible-playbook exited {proc.returncode}\nstdout:\n{proc.stdout[-6000:]}\nstderr:\n{proc.stderr[-3000:]}"
    return int(recap.group(2)), elapsed, proc.stdout


def task_result(out: str, task: str) -> str:
    """The result lines ('ok: [localhost]', 'changed: ...', 'skipping: ...') of one task in the default output."""
    match = re.search(r"^TASK \[[^]]*: " + re.escape(task) + r"\].*?\n(.*?)(?=^TASK |^PLAY RECAP)", out, re.M | re.S)
    assert match, f"task {task!r} did not run\n{out[-3000:]}"
    return match.group(1)


def wait_gone(kube: Kube, kind: str, name: str, namespaced: bool, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        got = kube.get(kind, name, namespaced)
        if got.returncode != 0 and "NotFound" in got.stderr:
            return
        assert time.monotonic() < deadline, f"{kind} {name} still there after {timeout} s:\n{got.stdout[:1500]}"
        time.sleep(2)


def test_flannel_helm_release_removed(lab, tmp_path):
    kube = Kube(lab)
    install_flannel_chart(kube, tmp_path / "chart")
    backup = tmp_path / "backup"
    book = write_playbook(tmp_path, kube, backup)

    # Check mode on the fresh release changes nothing in the cluster.
    _, t_check, _ = playbook(book, "--check")
    assert RELEASE in kube.releases(), "--check uninstalled the release"
    assert kube.get("DaemonSet", "kube-flannel-ds", True).returncode == 0, "--check deleted the DaemonSet"

    changed, t_first, out = playbook(book)
    assert changed > 0, out[-3000:]
    # Deleting the namespace alone would also drop the release record: the uninstall itself must have run.
    assert "changed: [localhost]" in task_result(out, "Uninstall Flannel's Helm release"), out[-4000:]
    assert RELEASE not in kube.releases(), f"release {RELEASE!r} still listed by helm list -A"
    for kind, namespaced, name in CHART_OBJECTS:
        wait_gone(kube, kind, name, namespaced)
    wait_gone(kube, "Namespace", NS, False)

    saved = {p.name: yaml.safe_load(p.read_text()) for p in (backup / "flannel").glob("*.yaml")}
    objects = {(o["kind"], o["metadata"]["name"]) for n, o in saved.items() if n != "helm-release.yaml"}
    expected = {(kind, name) for kind, _, name in CHART_OBJECTS} | {("Namespace", NS)}
    assert expected <= objects, f"not saved: {sorted(expected - objects)} (saved: {sorted(saved)})"
    ds = next(o for o in saved.values() if o.get("kind") == "DaemonSet")
    assert "status" not in ds and "uid" not in ds["metadata"]
    assert ds["metadata"]["annotations"]["meta.helm.sh/release-name"] == RELEASE
    release = saved.get("helm-release.yaml")
    assert release, f"helm-release.yaml not saved (saved: {sorted(saved)})"
    assert release["release"] == RELEASE and release["namespace"] == NS
    assert release["chart"].startswith("flannel-0.28.10"), release
    assert release["values"] == {"podCidr": "10.99.0.0/16"}, release  # the user-supplied values

    changed, t_second, out = playbook(book)
    assert changed == 0, f"second run changed {changed} task(s)\n{out[-3000:]}"
    print(f"check {t_check:.1f} s, removal {t_first:.1f} s, second run {t_second:.1f} s")
