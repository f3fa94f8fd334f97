#!/usr/bin/env python3
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small fake kubelet for the lab's namespace nodes (test infrastructure, never shipped).

What it does, for every node given with --node NAME=IP:
- registers the Node object (kubeadm labels; the control-plane taint on the control-plane node) with InternalIP =
  the node's lab address, and keeps it Ready: a Lease in kube-node-lease and the node's status conditions are
  renewed every few seconds (status is patched, so what others write there, e.g. Flannel's NetworkUnavailable
  condition and annotations, is kept);
- marks every pod bound to one of its nodes as started: phase Running, all conditions True, containers running
  and ready, podIP = the node IP for host-network pods, else the next free address of the node's podCIDR;
  pods of restartPolicy Never/OnFailure end as Succeeded;
- finishes graceful deletions of those pods (a real kubelet deletes the pod once its containers are gone).

No container runs: controllers see pods Running/Ready, so Deployments, DaemonSets and `helm --wait` complete.
"""
from __future__ import annotations

import argparse
import ipaddress
import sys
import threading
from datetime import datetime, timezone

import urllib3
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

STOP = threading.Event()


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_micro() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def log(msg: str) -> None:
    print(f"{now()} fake-kubelet: {msg}", flush=True)


class FakeKubelet:
    def __init__(self, api: client.ApiClient, nodes: dict, control_plane: str, version: str):
        self.core = client.CoreV1Api(api)
        self.coord = client.CoordinationV1Api(api)
        self.nodes = nodes
        self.control_plane = control_plane
        self.version = version
        self.pod_ips: dict = {}  # pod uid -> ip (this fake kubelet is the only allocator for its nodes)

    # --- nodes ---------------------------------------------------------------------------------------------------

    def node_body(self, name: str) -> dict:
        labels = {
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
        }
        spec: dict = {}
        if name == self.control_plane:
            labels["node-role.kubernetes.io/control-plane"] = ""
            labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
            spec["taints"] = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
        return {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels, "annotations": {
                "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
            "spec": spec,
        }

    def node_status(self, name: str) -> dict:
        ts = now()
        cond = []
        for ctype, status, reason, message in (
            ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            ("Ready", "True", "KubeletReady", "kubelet is posting ready status (lab fake kubelet)"),
        ):
            cond.append({"type": ctype, "status": status, "reason": reason, "message": message,
                         "lastHeartbeatTime": ts})
        capacity = {"cpu": "2", "memory": "4026532Ki", "pods": "110", "ephemeral-storage": "20Gi",
                    "hugepages-2Mi": "0"}
        return {"status": {
            "conditions": cond,
            "addresses": [{"type": "InternalIP", "address": self.nodes[name]},
                          {"type": "Hostname", "address": name}],
            "capacity": capacity, "allocatable": capacity,
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64", "operatingSystem": "linux", "osImage": "Debian GNU/Linux 12 (bookworm)",
                "kernelVersion": _kernel(), "containerRuntimeVersion": "containerd://1.7.24",
                "kubeletVersion": self.version, "kubeProxyVersion": "",
                "machineID": "", "systemUUID": "", "bootID": "",
            },
        }}

    def register(self, name: str) -> None:
        try:
            self.core.create_node(self.node_body(name))
            log(f"registered node {name}")
        except ApiException as exc:
            if exc.status != 409:
                raise
        self.heartbeat(name, first=True)

    def heartbeat(self, name: str, first: bool = False) -> None:
        lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                 "metadata": {"name": name, "namespace": "kube-node-lease"},
                 "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": now_micro()}}
        try:
            self.coord.patch_namespaced_lease(name, "kube-node-lease", {"spec": lease["spec"]})
        except ApiException as exc:
            if exc.status != 404:
                raise
            self.coord.create_namespaced_lease("kube-node-lease", lease)
        status = self.node_status(name)
        if not first:
            # Only the heartbeats need refreshing; addresses and capacity were written at registration.
            status = {"status": {"conditions": status["status"]["conditions"]}}
        self.core.patch_node_status(name, status)

    def heartbeats(self) -> None:
        while not STOP.wait(5):
            for name in self.nodes:
                try:
                    self.heartbeat(name)
                except (ApiException, urllib3.exceptions.HTTPError) as exc:
                    log(f"heartbeat of {name} failed: {exc}")

    # --- pods ----------------------------------------------------------------------------------------------------

    def pod_cidr(self, node: str) -> ipaddress.IPv4Network | None:
        cidr = self.core.read_node(node).spec.pod_cidr
        return ipaddress.ip_network(cidr) if cidr else None

    def allocate(self, pod, used: set) -> str | None:
        node = pod.spec.node_name
        if pod.spec.host_network:
            return self.nodes[node]
        uid = pod.metadata.uid
        if uid in self.pod_ips:
            return self.pod_ips[uid]
        net = self.pod_cidr(node)
        if net is None:
            return None
        for i, host in enumerate(net.hosts()):
            if i == 0:
                continue  # .1 is the node's cni0 gateway
            if str(host) not in used:
                self.pod_ips[uid] = str(host)
                used.add(str(host))
                return str(host)
        return None

    def reconcile(self, pod, used: set) -> None:
        node = pod.spec.node_name
        if node not in self.nodes:
            return
        name, ns = pod.metadata.name, pod.metadata.namespace
        if pod.metadata.deletion_timestamp:
            try:
                self.core.delete_namespaced_pod(name, ns, grace_period_seconds=0,
                                                body=client.V1DeleteOptions(
                                                    grace_period_seconds=0,
                                                    preconditions=client.V1Preconditions(uid=pod.metadata.uid)))
                log(f"deleted {ns}/{name}")
            except ApiException as exc:
                if exc.status not in (404, 409):
                    raise
            self.pod_ips.pop(pod.metadata.uid, None)
            return
        if pod.status.phase in ("Succeeded", "Failed"):
            return
        st = pod.status
        ready = any(c.type == "Ready" and c.status == "True" for c in (st.conditions or []))
        if st.phase == "Running" and ready and st.pod_ip:
            return
        ip = self.allocate(pod, used)
        if ip is None:
            return  # no podCIDR yet: try again on the next pass
        ts = now()
        finished = pod.spec.restart_policy in ("Never", "OnFailure")

        def cstatus(c, init: bool) -> dict:
            out = {"name": c.name, "image": c.image, "imageID": c.image,
                   "containerID": f"containerd://{pod.metadata.uid}-{c.name}", "restartCount": 0}
            if init or finished:
                out.update(ready=False, started=False, state={"terminated": {
                    "exitCode": 0, "reason": "Completed", "startedAt": ts, "finishedAt": ts}})
            else:
                out.update(ready=True, started=True, state={"running": {"startedAt": ts}})
            return out

        conds = ["PodReadyToStartContainers", "Initialized", "PodScheduled"]
        body = {"status": {
            "phase": "Succeeded" if finished else "Running",
            "hostIP": self.nodes[node], "hostIPs": [{"ip": self.nodes[node]}],
            "podIP": ip, "podIPs": [{"ip": ip}],
            "startTime": ts,
            "conditions": [{"type": t, "status": "True", "lastTransitionTime": ts} for t in conds] + [
                {"type": t, "status": "False" if finished else "True", "lastTransitionTime": ts}
                for t in ("Ready", "ContainersReady")],
            "containerStatuses": [cstatus(c, False) for c in pod.spec.containers],
        }}
        if pod.spec.init_containers:
            body["status"]["initContainerStatuses"] = [cstatus(c, True) for c in pod.spec.init_containers]
        try:
            self.core.patch_namespaced_pod_status(name, ns, body)
            log(f"{ns}/{name} on {node}: {body['status']['phase']} ip {ip}")
        except ApiException as exc:
            if exc.status not in (404, 409):
                raise

    def resync(self) -> str:
        pods = self.core.list_pod_for_all_namespaces()
        live = set()
        for p in pods.items:
            live.add(p.metadata.uid)
            if p.status.pod_ip and not p.spec.host_network and p.spec.node_name in self.nodes:
                self.pod_ips.setdefault(p.metadata.uid, p.status.pod_ip)
        for uid in list(self.pod_ips):
            if uid not in live:
                del self.pod_ips[uid]
        for pod in pods.items:
            self.reconcile(pod, set(self.pod_ips.values()))
        return pods.metadata.resource_version

    def run(self) -> None:
        for name in self.nodes:
            self.register(name)
        threading.Thread(target=self.heartbeats, daemon=True).start()
        log(f"serving nodes {', '.join(self.nodes)}")
        while not STOP.is_set():
            try:
                rv = self.resync()
                w = watch.Watch()
                for ev in w.stream(self.core.list_pod_for_all_namespaces, resource_version=rv, timeout_seconds=10,
                                   _request_timeout=15):
                    if STOP.is_set():
                        break
                    pod = ev["object"]
                    if pod.spec.node_name not in self.nodes:
                        continue
                    if ev["type"] == "DELETED":
                        self.pod_ips.pop(pod.metadata.uid, None)
                    else:
                        self.reconcile(pod, set(self.pod_ips.values()))
            except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
                log(f"watch interrupted: {exc}")
                STOP.wait(1)


def _kernel() -> str:
    try:
        with open("/proc/sys/kernel/osrelease", encoding="ascii") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kubeconfig", required=True)
    ap.add_argument("--node", action="append", required=True, metavar="NAME=IP")
    ap.add_argument("--control-plane", required=True)
    ap.add_argument("--version", required=True)
    args = ap.parse_args()
    nodes = {}
    for spec in args.node:
        name, sep, ip = spec.partition("=")
        if not sep or not name:
            ap.error(f"--node {spec!r}: expected NAME=IP")
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            ap.error(f"--node {spec!r}: {ip!r} is not an IP address")
        nodes[name] = ip
    if args.control_plane not in nodes:
        ap.error(f"--control-plane {args.control_plane!r} is not one of the nodes")
    api = config.new_client_from_config(config_file=args.kubeconfig)
    kubelet = FakeKubelet(api, nodes, args.control_plane, args.version)
    while not STOP.is_set():
        try:
            kubelet.run()
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
            log(f"API not reachable yet: {exc}")
            STOP.wait(1)
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
