#!/usr/bin/env python3
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes objects of the lab cluster (test infrastructure, never shipped).

Prints, as one JSON `List`, the objects a kubeadm init plus Flannel's manifest leave in a cluster: the kubeadm
ConfigMaps (kubeadm-config, kubelet-config, cluster-info), the kube-proxy DaemonSet/ConfigMap/RBAC, CoreDNS, the
kube-flannel namespace/DaemonSet/ConfigMap/RBAC, look-alikes of the control-plane static pods, and a small demo
workload with Services so kube-proxy has KUBE-SVC/KUBE-SEP rules to write.

With --node-proxy-config FILE it instead prints the node's own copy of kube-proxy's config.conf (see node_proxy_config).
"""
from __future__ import annotations

import argparse
import base64
import ipaddress
import json
import sys

import yaml

SYSTEM = "kube-system"
FLANNEL_NS = "kube-flannel"
DEMO_NS = "lab-demo"


def dump(data: dict) -> str:
    return yaml.safe_dump(data, default_flow_style=False, sort_keys=False)


def meta(name: str, namespace: str | None = None, labels: dict | None = None, annotations: dict | None = None) -> dict:
    out: dict = {"name": name}
    if namespace:
        out["namespace"] = namespace
    if labels:
        out["labels"] = labels
    if annotations:
        out["annotations"] = annotations
    return out


def obj(api: str, kind: str, metadata: dict, **rest) -> dict:
    return {"apiVersion": api, "kind": kind, "metadata": metadata, **rest}


def configmap(name: str, namespace: str, data: dict, labels: dict | None = None) -> dict:
    return obj("v1", "ConfigMap", meta(name, namespace, labels), data=data)


def service_account(name: str, namespace: str) -> list:
    """A ServiceAccount plus a legacy token Secret (filled by the controller-manager) for the node programs."""
    return [
        obj("v1", "ServiceAccount", meta(name, namespace)),
        obj("v1", "Secret", meta(f"{name}-token", namespace, annotations={"kubernetes.io/service-account.name": name}),
            type="kubernetes.io/service-account-token"),
    ]


def cluster_role_binding(name: str, role: str, subjects: list) -> dict:
    return obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", meta(name),
               roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}, subjects=subjects)


def sa_subject(name: str, namespace: str) -> dict:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


def group_subject(name: str) -> dict:
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": name}


def kube_proxy_config(args: argparse.Namespace) -> dict:
    """config.conf of the kube-proxy ConfigMap, as kubeadm writes it for the chosen mode."""
    mode = "nftables" if args.proxy_mode == "nftables" else "iptables"
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "bindAddress": "0.0.0.0",
        "clientConnection": {"kubeconfig": "/var/lib/kube-proxy/kubeconfig.conf", "acceptContentTypes": "",
                             "contentType": "", "burst": 0, "qps": 0},
        "clusterCIDR": args.pod_cidr,
        "configSyncPeriod": "0s",
        "conntrack": {"maxPerCore": None, "min": None, "tcpCloseWaitTimeout": None, "tcpEstablishedTimeout": None,
                      "tcpBeLiberal": False, "udpStreamTimeout": "0s", "udpTimeout": "0s"},
        "detectLocalMode": "",
        "enableProfiling": False,
        "healthzBindAddress": "",
        "hostnameOverride": "",
        "iptables": {"localhostNodePorts": None, "masqueradeAll": False, "masqueradeBit": None,
                     "minSyncPeriod": "0s", "syncPeriod": "0s"},
        "ipvs": {"excludeCIDRs": None, "minSyncPeriod": "0s", "scheduler": "", "strictARP": False,
                 "syncPeriod": "0s", "tcpFinTimeout": "0s", "tcpTimeout": "0s", "udpTimeout": "0s"},
        "metricsBindAddress": "",
        "mode": mode,
        "nftables": {"masqueradeAll": False, "masqueradeBit": None, "minSyncPeriod": "0s", "syncPeriod": "0s"},
        "nodePortAddresses": None,
        "oomScoreAdj": None,
        "portRange": "",
    }


def node_proxy_config(text: str, kubeconfig_path: str) -> str:
    """The node's copy of config.conf: the ConfigMap's text with this node's kubeconfig path, and the conntrack
    sysctls left alone (they are read-only outside the initial network namespace: maxPerCore 0 and zero timeouts
    tell kube-proxy not to touch them)."""
    try:
        cfg = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SystemExit(f"objects.py: kube-proxy config.conf is not YAML: {exc}") from None
    if not isinstance(cfg, dict) or cfg.get("kind") != "KubeProxyConfiguration":
        raise SystemExit("objects.py: kube-proxy config.conf is not a KubeProxyConfiguration")
    cfg.setdefault("clientConnection", {})["kubeconfig"] = kubeconfig_path
    cfg["conntrack"] = dict(cfg.get("conntrack") or {}, maxPerCore=0, min=0, tcpEstablishedTimeout="0s",
                            tcpCloseWaitTimeout="0s")
    return dump(cfg)


def kube_proxy(args: argparse.Namespace) -> list:
    kubeconfig = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "default", "cluster": {
            "certificate-authority": "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
            "server": f"https://{args.control_plane_ip}:6443"}}],
        "contexts": [{"name": "default", "context": {"cluster": "default", "namespace": "default", "user": "default"}}],
        "current-context": "default",
        "users": [{"name": "default", "user": {"tokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"}}],
    }
    labels = {"k8s-app": "kube-proxy"}
    ds = obj("apps/v1", "DaemonSet", meta("kube-proxy", SYSTEM, labels), spec={
        "selector": {"matchLabels": labels},
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "priorityClassName": "system-node-critical",
                "hostNetwork": True,
                "serviceAccountName": "kube-proxy",
                "nodeSelector": {"kubernetes.io/os": "linux"},
                "tolerations": [{"operator": "Exists"}],
                "containers": [{
                    "name": "kube-proxy",
                    "image": f"registry.k8s.io/kube-proxy:{args.k8s_version}",
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
                                "--hostname-override=$(NODE_NAME)"],
                    "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                    "securityContext": {"privileged": True},
                    "volumeMounts": [
                        {"name": "kube-proxy", "mountPath": "/var/lib/kube-proxy"},
                        {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
                        {"name": "lib-modules", "mountPath": "/lib/modules", "readOnly": True},
                    ],
                }],
                "volumes": [
                    {"name": "kube-proxy", "configMap": {"name": "kube-proxy"}},
                    {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}},
                    {"name": "lib-modules", "hostPath": {"path": "/lib/modules"}},
                ],
            },
        },
    })
    return [
        *service_account("kube-proxy", SYSTEM),
        cluster_role_binding("kubeadm:node-proxier", "system:node-proxier", [sa_subject("kube-proxy", SYSTEM)]),
        obj("rbac.authorization.k8s.io/v1", "Role", meta("kube-proxy", SYSTEM), rules=[
            {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["kube-proxy"], "verbs": ["get"]}]),
        obj("rbac.authorization.k8s.io/v1", "RoleBinding", meta("kube-proxy", SYSTEM),
            roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "kube-proxy"},
            subjects=[group_subject("system:bootstrappers:kubeadm:default-node-token")]),
        configmap("kube-proxy", SYSTEM, {"config.conf": dump(kube_proxy_config(args)),
                                         "kubeconfig.conf": dump(kubeconfig)}, labels={"app": "kube-proxy"}),
        ds,
    ]


def flannel(args: argparse.Namespace) -> list:
    labels = {"app": "flannel", "k8s-app": "flannel", "tier": "node"}
    net_conf = {"Network": args.pod_cidr, "EnableNFTables": False, "Backend": {"Type": "vxlan"}}
    cni_conf = {
        "name": "cbr0", "cniVersion": "0.3.1",
        "plugins": [
            {"type": "flannel", "delegate": {"hairpinMode": True, "isDefaultGateway": True}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    image = f"ghcr.io/flannel-io/flannel:{args.flannel_version}"
    ds = obj("apps/v1", "DaemonSet", meta("kube-flannel-ds", FLANNEL_NS, labels), spec={
        "selector": {"matchLabels": {"app": "flannel"}},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [
                        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}]}}},
                "hostNetwork": True,
                "priorityClassName": "system-node-critical",
                "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
                "serviceAccountName": "flannel",
                "initContainers": [
                    {"name": "install-cni-plugin", "image": "ghcr.io/flannel-io/flannel-cni-plugin:v1.8.0-flannel1",
                     "command": ["cp"], "args": ["-f", "/flannel", "/opt/cni/bin/flannel"],
                     "volumeMounts": [{"name": "cni-plugin", "mountPath": "/opt/cni/bin"}]},
                    {"name": "install-cni", "image": image, "command": ["cp"],
                     "args": ["-f", "/etc/kube-flannel/cni-conf.json", "/etc/cni/net.d/10-flannel.conflist"],
                     "volumeMounts": [{"name": "cni", "mountPath": "/etc/cni/net.d"},
                                      {"name": "flannel-cfg", "mountPath": "/etc/kube-flannel/"}]},
                ],
                "containers": [{
                    "name": "kube-flannel", "image": image,
                    "command": ["/opt/bin/flanneld"], "args": ["--ip-masq", "--kube-subnet-mgr"],
                    "resources": {"requests": {"cpu": "100m", "memory": "50Mi"}},
                    "securityContext": {"privileged": False,
                                        "capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
                    "env": [
                        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                        {"name": "EVENT_QUEUE_DEPTH", "value": "5000"},
                        {"name": "CONT_WHEN_CACHE_NOT_READY", "value": "false"},
                    ],
                    "volumeMounts": [
                        {"name": "run", "mountPath": "/run/flannel"},
                        {"name": "flannel-cfg", "mountPath": "/etc/kube-flannel/"},
                        {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
                    ],
                }],
                "volumes": [
                    {"name": "run", "hostPath": {"path": "/run/flannel"}},
                    {"name": "cni-plugin", "hostPath": {"path": "/opt/cni/bin"}},
                    {"name": "cni", "hostPath": {"path": "/etc/cni/net.d"}},
                    {"name": "flannel-cfg", "configMap": {"name": "kube-flannel-cfg"}},
                    {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}},
                ],
            },
        },
    })
    return [
        obj("v1", "Namespace", meta(FLANNEL_NS, labels={"k8s-app": "flannel",
                                                        "pod-security.kubernetes.io/enforce": "privileged"})),
        obj("rbac.authorization.k8s.io/v1", "ClusterRole", meta("flannel", labels={"k8s-app": "flannel"}), rules=[
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
            {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": [""], "resources": ["nodes/status"], "verbs": ["patch"]},
        ]),
        cluster_role_binding("flannel", "flannel", [sa_subject("flannel", FLANNEL_NS)]),
        *service_account("flannel", FLANNEL_NS),
        configmap("kube-flannel-cfg", FLANNEL_NS, {"cni-conf.json": json.dumps(cni_conf, indent=2) + "\n",
                                                   "net-conf.json": json.dumps(net_conf, indent=2) + "\n"},
                  labels={"app": "flannel", "k8s-app": "flannel", "tier": "node"}),
        ds,
    ]


def kubeadm_configmaps(args: argparse.Namespace, ca_pem: bytes) -> list:
    cluster = {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "ClusterConfiguration",
        "kubernetesVersion": args.k8s_version,
        "clusterName": "kubernetes",
        "controlPlaneEndpoint": f"{args.control_plane_ip}:6443",
        "certificatesDir": "/etc/kubernetes/pki",
        "imageRepository": "registry.k8s.io",
        "networking": {"dnsDomain": "cluster.local", "podSubnet": args.pod_cidr, "serviceSubnet": args.service_cidr},
        "apiServer": {}, "controllerManager": {}, "scheduler": {}, "dns": {}, "proxy": {},
        "etcd": {"local": {"dataDir": "/var/lib/etcd"}},
        "encryptionAlgorithm": "RSA-2048",
        "caCertificateValidityPeriod": "87600h0m0s",
        "certificateValidityPeriod": "8760h0m0s",
    }
    kubelet = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True, "cacheTTL": "0s"},
                           "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"}},
        "authorization": {"mode": "Webhook"},
        "cgroupDriver": "systemd",
        "clusterDNS": [dns_ip(args.service_cidr)],
        "clusterDomain": "cluster.local",
        "containerRuntimeEndpoint": "",
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "rotateCertificates": True,
        "staticPodPath": "/etc/kubernetes/manifests",
        "resolvConf": "/run/systemd/resolve/resolv.conf",
    }
    cluster_info = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "", "cluster": {"certificate-authority-data": base64.b64encode(ca_pem).decode(),
                                              "server": f"https://{args.control_plane_ip}:6443"}}],
        "contexts": None, "current-context": "", "preferences": {}, "users": None,
    }
    return [
        configmap("kubeadm-config", SYSTEM, {"ClusterConfiguration": dump(cluster)}),
        configmap("kubelet-config", SYSTEM, {"kubelet": dump(kubelet)}),
        configmap("cluster-info", "kube-public", {"kubeconfig": dump(cluster_info)}),
        obj("rbac.authorization.k8s.io/v1", "Role", meta("kubeadm:bootstrap-signer-clusterinfo", "kube-public"), rules=[
            {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["cluster-info"], "verbs": ["get"]}]),
        obj("rbac.authorization.k8s.io/v1", "RoleBinding", meta("kubeadm:bootstrap-signer-clusterinfo", "kube-public"),
            roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                     "name": "kubeadm:bootstrap-signer-clusterinfo"},
            subjects=[{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:anonymous"}]),
        cluster_role_binding("kubeadm:cluster-admins", "cluster-admin", [group_subject("kubeadm:cluster-admins")]),
    ]


def dns_ip(service_cidr: str) -> str:
    return str(ipaddress.ip_network(service_cidr)[10])


def coredns(args: argparse.Namespace) -> list:
    labels = {"k8s-app": "kube-dns"}
    corefile = (".:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n"
                "    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n"
                "       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n    prometheus :9153\n"
                "    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    cache 30\n    loop\n"
                "    reload\n    loadbalance\n}\n")
    return [
        obj("v1", "ServiceAccount", meta("coredns", SYSTEM)),
        obj("rbac.authorization.k8s.io/v1", "ClusterRole", meta("system:coredns"), rules=[
            {"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"], "verbs": ["list", "watch"]},
            {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]},
        ]),
        cluster_role_binding("system:coredns", "system:coredns", [sa_subject("coredns", SYSTEM)]),
        configmap("coredns", SYSTEM, {"Corefile": corefile}),
        obj("apps/v1", "Deployment", meta("coredns", SYSTEM, labels), spec={
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {"metadata": {"labels": labels}, "spec": {
                "priorityClassName": "system-cluster-critical",
                "serviceAccountName": "coredns",
                "nodeSelector": {"kubernetes.io/os": "linux"},
                "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
                "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 100, "podAffinityTerm": {
                        "labelSelector": {"matchExpressions": [
                            {"key": "k8s-app", "operator": "In", "values": ["kube-dns"]}]},
                        "topologyKey": "kubernetes.io/hostname"}}]}},
                "containers": [{
                    "name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.12.1",
                    "args": ["-conf", "/etc/coredns/Corefile"],
                    "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                              {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                              {"name": "metrics", "containerPort": 9153, "protocol": "TCP"}],
                    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181}},
                    "volumeMounts": [{"name": "config-volume", "mountPath": "/etc/coredns", "readOnly": True}],
                }],
                "volumes": [{"name": "config-volume", "configMap": {"name": "coredns"}}],
            }},
        }),
        obj("v1", "Service", meta("kube-dns", SYSTEM, dict(labels, **{"kubernetes.io/name": "CoreDNS"})), spec={
            "selector": labels, "clusterIP": dns_ip(args.service_cidr),
            "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                      {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                      {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}],
        }),
    ]


def static_pods(args: argparse.Namespace) -> list:
    """Look-alikes of kubeadm's control-plane mirror pods (the real processes run in the control-plane node)."""
    node = args.control_plane
    ip = args.control_plane_ip
    pods = {
        "etcd": ("registry.k8s.io/etcd:3.6.4-0", ["etcd", f"--advertise-client-urls=https://{ip}:2379"],
                 {"kubeadm.kubernetes.io/etcd.advertise-client-urls": f"https://{ip}:2379"}),
        "kube-apiserver": (f"registry.k8s.io/kube-apiserver:{args.k8s_version}",
                           ["kube-apiserver", f"--advertise-address={ip}", "--secure-port=6443",
                            f"--service-cluster-ip-range={args.service_cidr}"],
                           {"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": f"{ip}:6443"}),
        "kube-controller-manager": (f"registry.k8s.io/kube-controller-manager:{args.k8s_version}",
                                    ["kube-controller-manager", "--allocate-node-cidrs=true",
                                     f"--cluster-cidr={args.pod_cidr}",
                                     f"--service-cluster-ip-range={args.service_cidr}"], {}),
        "kube-scheduler": (f"registry.k8s.io/kube-scheduler:{args.k8s_version}", ["kube-scheduler"], {}),
    }
    out = []
    for component, (image, command, annotations) in pods.items():
        out.append(obj("v1", "Pod", meta(f"{component}-{node}", SYSTEM,
                                         {"component": component, "tier": "control-plane"},
                                         dict(annotations, **{"kubernetes.io/config.source": "file"})), spec={
            "nodeName": node, "hostNetwork": True, "priorityClassName": "system-node-critical",
            "tolerations": [{"operator": "Exists", "effect": "NoExecute"}],
            "containers": [{"name": component, "image": image, "command": command}],
        }))
    return out


def demo() -> list:
    labels = {"app": "echo"}
    return [
        obj("v1", "Namespace", meta(DEMO_NS)),
        obj("apps/v1", "Deployment", meta("echo", DEMO_NS, labels), spec={
            "replicas": 3, "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {
                # so that a one-node lab (control plane only) runs it too
                "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
                "containers": [{
                    "name": "echo", "image": "registry.k8s.io/e2e-test-images/agnhost:2.53",
                    "args": ["netexec", "--http-port=8080"],
                    "ports": [{"containerPort": 8080, "name": "http"}],
                }],
            }},
        }),
        obj("v1", "Service", meta("echo", DEMO_NS, labels), spec={
            "selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}),
        obj("v1", "Service", meta("echo-nodeport", DEMO_NS, labels), spec={
            "type": "NodePort", "selector": labels,
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080}]}),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--node-proxy-config", metavar="FILE")
    ap.add_argument("--kubeconfig-path", default="/var/lib/kube-proxy/kubeconfig.conf")
    ap.add_argument("--control-plane")
    ap.add_argument("--control-plane-ip")
    ap.add_argument("--k8s-version")
    ap.add_argument("--flannel-version")
    ap.add_argument("--proxy-mode", choices=["iptables-nft", "iptables-legacy", "nftables"])
    ap.add_argument("--pod-cidr", default="10.244.0.0/16")
    ap.add_argument("--service-cidr", default="10.96.0.0/12")
    ap.add_argument("--ca")
    args = ap.parse_args()
    if args.node_proxy_config:
        try:
            with open(args.node_proxy_config, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise SystemExit(f"objects.py: cannot read {args.node_proxy_config}: {exc}") from None
        sys.stdout.write(node_proxy_config(text, args.kubeconfig_path))
        return 0
    missing = [n for n in ("control_plane", "control_plane_ip", "k8s_version", "flannel_version", "proxy_mode", "ca")
               if not getattr(args, n)]
    if missing:
        ap.error("missing: " + ", ".join("--" + m.replace("_", "-") for m in missing))
    with open(args.ca, "rb") as fh:
        ca_pem = fh.read()
    items = [*kubeadm_configmaps(args, ca_pem), *kube_proxy(args), *coredns(args), *flannel(args),
             *static_pods(args), *demo()]
    json.dump({"apiVersion": "v1", "kind": "List", "items": items}, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
