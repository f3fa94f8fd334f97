#!/usr/bin/env bash
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Kubernetes test lab (test infrastructure, never shipped): a kubeadm-shaped cluster with Flannel and kube-proxy,
# built from Go modules and run inside namespace nodes.
#
#   tests/lab/lab.sh build     build kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy, etcd and
#                              flanneld into the cache (a second build is a no-op)
#   tests/lab/lab.sh up        start the lab (idempotent); ends by printing LAB_KUBECONFIG=, LAB_INVENTORY=, LAB_BIN=
#   tests/lab/lab.sh down      stop every process, namespace, mount and file of the lab (twice is fine)
#   tests/lab/lab.sh status    one line per lab process, then `kubectl get nodes`
#   tests/lab/lab.sh smoke     run the smoke test (tests/lab/test_lab_smoke.py) against the lab
#   tests/lab/lab.sh test      the lab suite: build (cached), smoke test, then the molecule/lab_* scenarios
#   tests/lab/lab.sh env       print the three LAB_* lines of a running lab
#   tests/lab/lab.sh stop|start kube-proxy|flanneld [NODE...]
#                              stop or (re)start the real program on the nodes (default: all): stop it before a
#                              clean-up (as deleting its DaemonSet would), start it again to prove the clean-up
#                              really removed what it had made
#
# Parameters (environment):
#   LAB_NODES        node names, control plane first (default "k8s-ctr k8s-w1 k8s-w2")
#   LAB_PROXY_MODE   iptables-nft (default) | iptables-legacy | nftables
#   LAB_K8S_VERSION  Kubernetes version; must be the one pinned in tests/lab/go/kubernetes/go.mod
#   LAB_PREFIX       netns prefix (default klab); LAB_DIR lab directory (default /run/kubeshift-lab/$LAB_PREFIX)
#   LAB_API_PORT     host loopback port where the API server is published (default 36443)
set -euo pipefail

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$LAB_SRC/../.." && pwd)
if [[ -z ${KUBESHIFT_REPO:-} ]]; then
  # shellcheck source=/dev/null
  . "$REPO/tests/utils/env.sh"
fi
CACHE=${KUBESHIFT_CACHE:-$HOME/.cache/kubeshift-cilium}
NETNS_NODES=$REPO/tests/utils/netns-nodes.sh

PREFIX=${LAB_PREFIX:-klab}
LAB=${LAB_DIR:-/run/kubeshift-lab/$PREFIX}
K=$LAB/.k8s                      # lab-wide files (host side)
read -r -a NODES <<<"${LAB_NODES:-k8s-ctr k8s-w1 k8s-w2}"
CTR=${NODES[0]:-}
MODE=${LAB_PROXY_MODE:-iptables-nft}
API_PORT=${LAB_API_PORT:-36443}
POD_CIDR=10.244.0.0/16
SVC_CIDR=10.96.0.0/12
SVC_API_IP=10.96.0.1
HUB=$PREFIX-hub
PY=${LAB_PYTHON:-$REPO/.venv/bin/python}
BIN=${LAB_BIN:-$CACHE/bin}
# Inside every node /run is the node's own $LAB/NODE/run: lab files for the node live in /run/klab there.
NODE_DIR=/run/klab

log() { printf '[lab] %s\n' "$*" >&2; }
die() { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }

export NETNS_PREFIX=$PREFIX NETNS_LAB=$LAB

k8s_version() { "$LAB_SRC/build.sh" --print-version kubernetes; }
bin_dir() { "$LAB_SRC/build.sh" --print-bin "$1"; }

check_params() {
  (( ${#NODES[@]} >= 1 )) || die "LAB_NODES is empty"
  case $MODE in
    iptables-nft | iptables-legacy | nftables) ;;
    ipvs) die "LAB_PROXY_MODE 'ipvs' cannot run here: the kernel has no CONFIG_IP_VS (IPVS handling is tested on captured 'ipvsadm -Sn' output)" ;;
    *) die "LAB_PROXY_MODE '$MODE' is not one of iptables-nft, iptables-legacy, nftables" ;;
  esac
  if ! [[ $API_PORT =~ ^[0-9]+$ ]] || (( API_PORT <= 1024 || API_PORT >= 65536 )); then
    die "LAB_API_PORT '$API_PORT' must be a port number between 1025 and 65535"
  fi
  local pinned
  pinned=$(k8s_version)
  if [[ -n ${LAB_K8S_VERSION:-} && ${LAB_K8S_VERSION#v} != "${pinned#v}" ]]; then
    die "LAB_K8S_VERSION=$LAB_K8S_VERSION, but tests/lab/go/kubernetes/go.mod pins $pinned (change the pin and its replace lines, then run 'lab.sh build')"
  fi
}

check_binaries() {
  local b
  for b in kubernetes/kube-apiserver kubernetes/kube-controller-manager kubernetes/kube-scheduler \
    kubernetes/kube-proxy etcd/etcd flannel/flanneld; do
    [[ -x $(bin_dir "${b%%/*}")/${b#*/} ]] || die "missing ${b#*/} in $(bin_dir "${b%%/*}"); run 'tests/lab/lab.sh build' (make lab-build) first"
  done
  [[ -x $BIN/kubectl && -x $BIN/helm ]] ||
    die "kubectl/helm missing in $BIN; run 'tests/utils/bootstrap.sh test' (make deps) first"
  [[ -x $PY ]] || die "no Python venv at $PY; run 'make deps' first"
}

node_pid() { cat "$LAB/$1/pid"; }
node_ip() { local ip4 _r; read -r ip4 _r <"$LAB/$1/addr"; echo "$ip4"; }
netns_inode() { stat -L -c %i "/run/netns/$1" 2>/dev/null; }

# Run a command inside a node (all of its namespaces but PID).
in_node() {
  local node=$1; shift
  nsenter -t "$(node_pid "$node")" -n -m -u -i -- "$@"
}

# The lab driver itself uses the super-admin (system:masters), as kubeadm does before its RBAC exists; the
# admin.conf handed out (LAB_KUBECONFIG) is kubeadm's kubernetes-admin in group kubeadm:cluster-admins.
kc() { "$BIN/kubectl" --kubeconfig "$K/super-admin.conf" "$@"; }

# --- lab processes ---------------------------------------------------------------------------------------------
# Every process the lab starts has a pid file $K/pids/<where>.<name> holding "PID NETNS" where NETNS is the name of
# the network namespace it runs in ("host" for the API forwarder). A process is only ever signalled after checking
# that it still sits in that namespace (host: that its command line still names this lab).

proc_ok() {
  local f=$K/pids/$1 pid ns
  [[ -r $f ]] || return 1
  read -r pid ns <"$f"
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ $ns == host ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$LAB" || return 1
  else
    [[ $(readlink "/proc/$pid/ns/net" 2>/dev/null) == "net:[$(netns_inode "$ns")]" ]] || return 1
  fi
}

# start_in_node NODE NAME CMD...: start CMD in NODE (setsid, logs in $K/logs), unless it already runs.
start_in_node() {
  local node=$1 name=$2; shift 2
  proc_ok "$node.$name" && return 0
  setsid nsenter -t "$(node_pid "$node")" -n -m -u -i -- "$@" </dev/null >>"$K/logs/$node.$name.log" 2>&1 &
  echo "$! $PREFIX-$node" >"$K/pids/$node.$name"
}

# stop_procs NAME...: TERM every still-running one at once, wait up to 1.5 s, then KILL the rest.
stop_procs() {
  local name pid ns i alive pids=()
  for name in "$@"; do
    [[ -r $K/pids/$name ]] || continue
    if proc_ok "$name"; then
      read -r pid ns <"$K/pids/$name"
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
    rm -f "$K/pids/$name"
  done
  for ((i = 0; i < 15; i++)); do
    alive=0
    for pid in "${pids[@]+"${pids[@]}"}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    (( alive )) || return 0
    sleep 0.1
  done
  for pid in "${pids[@]+"${pids[@]}"}"; do kill -KILL "$pid" 2>/dev/null || true; done
}

wait_for() { # wait_for SECONDS DESCRIPTION CMD...
  local secs=$1 what=$2 i; shift 2
  for ((i = 0; i < secs * 4; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  die "timed out after ${secs}s waiting for $what (logs: $K/logs)"
}

# --- PKI and kubeconfigs -------------------------------------------------------------------------------------------

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# sign NAME SUBJECT EXTENSIONS: key + certificate signed by the lab CA
sign() {
  local p=$K/pki/$1
  new_key "$p.key"
  openssl req -new -key "$p.key" -subj "$2" -out "$p.csr" 2>/dev/null
  openssl x509 -req -in "$p.csr" -CA "$K/pki/ca.crt" -CAkey "$K/pki/ca.key" -CAcreateserial -days 3650 \
    -extfile <(printf '%s\n' "$3") -out "$p.crt" 2>/dev/null
  rm -f "$p.csr"
}

make_pki() {
  [[ -s $K/pki/done ]] && return 0
  mkdir -p "$K/pki"
  local ctr_ip
  ctr_ip=$(node_ip "$CTR")
  new_key "$K/pki/ca.key"
  openssl req -x509 -new -key "$K/pki/ca.key" -subj /CN=kubernetes -days 3650 -out "$K/pki/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" 2>/dev/null
  local client="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
  sign apiserver /CN=kube-apiserver "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:$CTR,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:$SVC_API_IP,IP:$ctr_ip,IP:127.0.0.1"
  sign admin "/O=kubeadm:cluster-admins/CN=kubernetes-admin" "$client"
  sign super-admin "/O=system:masters/CN=kubernetes-super-admin" "$client"
  sign controller-manager /CN=system:kube-controller-manager "$client"
  sign scheduler /CN=system:kube-scheduler "$client"
  new_key "$K/pki/sa.key"
  openssl pkey -in "$K/pki/sa.key" -pubout -out "$K/pki/sa.pub" 2>/dev/null
  echo complete >"$K/pki/done"
}

b64() { base64 -w0 <"$1"; }

# kubeconfig FILE SERVER USER [cert|token] ...: a kubeconfig with embedded CA and credentials
write_kubeconfig() {
  local file=$1 server=$2 user=$3 kind=$4 cred
  if [[ $kind == cert ]]; then
    cred="    client-certificate-data: $(b64 "$K/pki/$5.crt")
    client-key-data: $(b64 "$K/pki/$5.key")"
  else
    cred="    token: $5"
  fi
  umask 077
  cat >"$file.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster:
    server: $server
    certificate-authority-data: $(b64 "$K/pki/ca.crt")
users:
- name: $user
  user:
$cred
contexts:
- name: $user@kubernetes
  context: {cluster: kubernetes, user: $user}
current-context: $user@kubernetes
preferences: {}
EOF
  mv "$file.tmp" "$file"
  umask 022
}

# --- steps of `up` -------------------------------------------------------------------------------------------------

start_control_plane() {
  local ctr_ip d=$NODE_DIR cdir=$LAB/$CTR/run/klab kbin ebin
  ctr_ip=$(node_ip "$CTR")
  kbin=$(bin_dir kubernetes); ebin=$(bin_dir etcd)
  mkdir -p "$cdir/pki" "$cdir/etcd"
  chmod 700 "$cdir/etcd"
  cp "$K/pki/ca.crt" "$K/pki/ca.key" "$K/pki/apiserver.crt" "$K/pki/apiserver.key" "$K/pki/sa.key" "$K/pki/sa.pub" "$cdir/pki/"
  write_kubeconfig "$cdir/controller-manager.conf" "https://$ctr_ip:6443" system:kube-controller-manager cert controller-manager
  write_kubeconfig "$cdir/scheduler.conf" "https://$ctr_ip:6443" system:kube-scheduler cert scheduler

  start_in_node "$CTR" etcd "$ebin/etcd" --name "$CTR" --data-dir "$d/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster "$CTR=http://127.0.0.1:2380" --listen-metrics-urls http://127.0.0.1:2381 \
    --unsafe-no-fsync --log-level warn
  start_in_node "$CTR" kube-apiserver "$kbin/kube-apiserver" \
    --advertise-address="$ctr_ip" --bind-address=0.0.0.0 --secure-port=6443 \
    --etcd-servers=http://127.0.0.1:2379 \
    --client-ca-file="$d/pki/ca.crt" --tls-cert-file="$d/pki/apiserver.crt" --tls-private-key-file="$d/pki/apiserver.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$d/pki/sa.pub" --service-account-signing-key-file="$d/pki/sa.key" \
    --service-cluster-ip-range="$SVC_CIDR" --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true --enable-bootstrap-token-auth=true --profiling=false \
    --kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname
  start_api_forwarder
  wait_for 90 "the API server (/readyz)" kc get --raw /readyz
  start_in_node "$CTR" kube-controller-manager "$kbin/kube-controller-manager" \
    --kubeconfig="$d/controller-manager.conf" --authentication-kubeconfig="$d/controller-manager.conf" \
    --authorization-kubeconfig="$d/controller-manager.conf" --bind-address=127.0.0.1 \
    --allocate-node-cidrs=true --cluster-cidr="$POD_CIDR" --node-cidr-mask-size=24 \
    --service-cluster-ip-range="$SVC_CIDR" --cluster-name=kubernetes \
    --cluster-signing-cert-file="$d/pki/ca.crt" --cluster-signing-key-file="$d/pki/ca.key" \
    --root-ca-file="$d/pki/ca.crt" --service-account-private-key-file="$d/pki/sa.key" \
    --use-service-account-credentials=true --controllers='*,bootstrapsigner,tokencleaner' \
    --leader-elect=false --profiling=false
  start_in_node "$CTR" kube-scheduler "$kbin/kube-scheduler" \
    --kubeconfig="$d/scheduler.conf" --authentication-kubeconfig="$d/scheduler.conf" \
    --authorization-kubeconfig="$d/scheduler.conf" --bind-address=127.0.0.1 --leader-elect=false --profiling=false
}

# The API server listens on the control-plane node's lab address. A small forwarder publishes it on the host's
# loopback (127.0.0.1:$API_PORT), so kubectl, helm and kubernetes.core run on the controller as against any cluster.
start_api_forwarder() {
  proc_ok host.api-forward && return 0
  # SO_REUSEADDR as the forwarder uses it: only a listener (not TIME_WAIT leftovers) makes the port unusable.
  if "$PY" -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)' "$API_PORT" 2>/dev/null; then :; else
    die "127.0.0.1:$API_PORT is taken; set LAB_API_PORT to a free port"
  fi
  setsid "$PY" "$LAB_SRC/api_forward.py" --listen "127.0.0.1:$API_PORT" --netns "/run/netns/$HUB" \
    --target "$(node_ip "$CTR"):6443" --lab "$LAB" </dev/null >>"$K/logs/host.api-forward.log" 2>&1 &
  echo "$! host" >"$K/pids/host.api-forward"
}

apply_objects() {
  local ctr_ip
  ctr_ip=$(node_ip "$CTR")
  "$PY" "$LAB_SRC/objects.py" --control-plane "$CTR" --control-plane-ip "$ctr_ip" \
    --k8s-version "$(k8s_version)" --flannel-version "$("$LAB_SRC/build.sh" --print-version flannel)" \
    --proxy-mode "$MODE" --pod-cidr "$POD_CIDR" --service-cidr "$SVC_CIDR" --ca "$K/pki/ca.crt" \
    >"$K/objects.json"
  # Pods are refused until the controller-manager has made the namespaces' default ServiceAccounts: retry.
  local i
  for ((i = 0; i < 60; i++)); do
    if kc apply --server-side --force-conflicts --field-manager kubeadm -f "$K/objects.json" >"$K/logs/apply.log" 2>&1; then
      return 0
    fi
    sleep 0.5
  done
  die "kubectl apply of the lab objects failed: $(tail -5 "$K/logs/apply.log")"
}

start_fake_kubelet() {
  proc_ok hub.fake-kubelet && return 0
  local args=() n
  for n in "${NODES[@]}"; do args+=(--node "$n=$(node_ip "$n")"); done
  write_kubeconfig "$K/hub-admin.conf" "https://$(node_ip "$CTR"):6443" kubernetes-super-admin cert super-admin
  setsid ip netns exec "$HUB" "$PY" "$LAB_SRC/fake_kubelet.py" --kubeconfig "$K/hub-admin.conf" \
    --control-plane "$CTR" --version "$(k8s_version)" "${args[@]}" \
    </dev/null >>"$K/logs/hub.fake-kubelet.log" 2>&1 &
  echo "$! $HUB" >"$K/pids/hub.fake-kubelet"
}

sa_token() { # namespace secret
  kc -n "$1" get secret "$2" -o jsonpath='{.data.token}' 2>/dev/null | base64 -d
}

node_has_podcidr() { [[ -n $(kc get node "$1" -o jsonpath='{.spec.podCIDR}' 2>/dev/null) ]]; }

# Files the kube-proxy and flannel pods would see, written into the node (through its own mount namespace, so they
# land in the node's overlay), then the real programs.
setup_node() {
  local node=$1 ctr_ip kp_token fl_token ndir=$LAB/$1/run/klab pod
  ctr_ip=$(node_ip "$CTR")
  kp_token=$(sa_token kube-system kube-proxy-token)
  fl_token=$(sa_token kube-flannel flannel-token)
  mkdir -p "$ndir"
  write_kubeconfig "$ndir/kube-proxy.conf" "https://$ctr_ip:6443" kube-proxy token "$kp_token"
  write_kubeconfig "$ndir/flannel.conf" "https://$ctr_ip:6443" flannel token "$fl_token"
  kc -n kube-system get cm kube-proxy -o jsonpath='{.data.config\.conf}' >"$ndir/kube-proxy-config.conf"
  kc -n kube-flannel get cm kube-flannel-cfg -o jsonpath='{.data.net-conf\.json}' >"$ndir/net-conf.json"
  kc -n kube-flannel get cm kube-flannel-cfg -o jsonpath='{.data.cni-conf\.json}' >"$ndir/cni-conf.json"
  # kube-proxy's own copy: the ConfigMap's text with the kubeconfig path of this node and conntrack sysctls left
  # alone (they are read-only outside the initial network namespace).
  "$PY" "$LAB_SRC/objects.py" --node-proxy-config "$ndir/kube-proxy-config.conf" \
    --kubeconfig-path "$NODE_DIR/kube-proxy.conf" >"$ndir/kube-proxy-node.conf"
  # shellcheck disable=SC2016  # expanded by the shell inside the node
  in_node "$node" sh -euc '
    mkdir -p /var/lib/kube-proxy /etc/kube-flannel /etc/cni/net.d /run/flannel
    cp /run/klab/kube-proxy-node.conf /var/lib/kube-proxy/config.conf
    cp /run/klab/net-conf.json /etc/kube-flannel/net-conf.json
    cp /run/klab/cni-conf.json /etc/cni/net.d/10-flannel.conflist
    case "$1" in
      iptables-legacy) b=legacy ;;
      *) b=nft ;;
    esac
    update-alternatives --quiet --set iptables "/usr/sbin/iptables-$b"
    update-alternatives --quiet --set ip6tables "/usr/sbin/ip6tables-$b"
  ' sh "$MODE"
  start_kube_proxy "$node"
  start_flanneld "$node"
}

start_flanneld() {
  local node=$1 pod
  pod=$(kc -n kube-flannel get pods -l app=flannel --field-selector "spec.nodeName=$node" -o jsonpath='{.items[0].metadata.name}' 2>/dev/null || true)
  start_in_node "$node" flanneld env NODE_NAME="$node" POD_NAME="${pod:-kube-flannel-ds-$node}" POD_NAMESPACE=kube-flannel \
    EVENT_QUEUE_DEPTH=5000 CONT_WHEN_CACHE_NOT_READY=false \
    "$(bin_dir flannel)/flanneld" --ip-masq --kube-subnet-mgr --iface eth0 --kubeconfig-file "$NODE_DIR/flannel.conf" \
    --net-config-path /etc/kube-flannel/net-conf.json
}

start_kube_proxy() {
  local node=$1
  start_in_node "$node" kube-proxy "$(bin_dir kubernetes)/kube-proxy" \
    --config=/var/lib/kube-proxy/config.conf --hostname-override="$node"
}

write_inventory() {
  local n tmp=$K/inventory.ini.tmp
  {
    printf '# Written by tests/lab/lab.sh up (lab %s). The pid comes from a file lookup: no lab, no run.\n' "$LAB"
    printf '[kube_control_plane]\n%s node_ip=%s\n\n[kube_node]\n' "$CTR" "$(node_ip "$CTR")"
    for n in "${NODES[@]:1}"; do printf '%s node_ip=%s\n' "$n" "$(node_ip "$n")"; done
    printf '\n[k8s_cluster:children]\nkube_control_plane\nkube_node\n\n[k8s_cluster:vars]\n'
    printf 'ansible_connection=community.docker.nsenter\nansible_python_interpreter=/usr/bin/python3\n'
    printf 'netns_lab=%s\nlab_kubeconfig=%s\nlab_proxy_mode=%s\nlab_bin=%s\n' "$LAB" "$K/admin.conf" "$MODE" "$BIN"
    # shellcheck disable=SC2016  # Jinja for Ansible, not a shell expansion
    printf '%s\n' 'ansible_nsenter_pid="{{ lookup('"'"'ansible.builtin.file'"'"', netns_lab ~ '"'"'/'"'"' ~ inventory_hostname ~ '"'"'/pid'"'"') }}"'
  } >"$tmp"
  mv "$tmp" "$K/inventory.ini"
}

print_env() {
  printf 'LAB_KUBECONFIG=%s\nLAB_INVENTORY=%s\nLAB_BIN=%s\n' "$K/admin.conf" "$K/inventory.ini" "$BIN"
}

all_running() {
  [[ -r $K/up ]] || return 1
  local n p
  for p in host.api-forward hub.fake-kubelet "$CTR.etcd" "$CTR.kube-apiserver" "$CTR.kube-controller-manager" "$CTR.kube-scheduler"; do
    proc_ok "$p" || return 1
  done
  for n in "${NODES[@]}"; do
    proc_ok "$n.kube-proxy" && proc_ok "$n.flanneld" || return 1
  done
  kc get --raw /readyz >/dev/null 2>&1
}

rollout_done() {
  kc -n kube-system rollout status ds/kube-proxy --timeout=1s &&
    kc -n kube-flannel rollout status ds/kube-flannel-ds --timeout=1s &&
    kc -n kube-system rollout status deploy/coredns --timeout=1s
}

nodes_ready() {
  local n
  for n in "${NODES[@]}"; do
    [[ $(kc get node "$n" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}') == True ]] || return 1
  done
}

node_programmed() {
  local node=$1
  in_node "$node" ip -d link show dev flannel.1 >/dev/null 2>&1 || return 1
  in_node "$node" test -s /run/flannel/subnet.env || return 1
  case $MODE in
    # grep -c reads to the end (grep -q would close the pipe early: SIGPIPE fails the pipeline under pipefail).
    nftables) in_node "$node" nft list table ip kube-proxy 2>/dev/null | grep -c 'chain service-' >/dev/null ;;
    *) in_node "$node" iptables-save -t nat 2>/dev/null | grep -c '^-A KUBE-SVC-' >/dev/null ;;
  esac
}

cmd_up() {
  check_params
  check_binaries
  [[ $(id -u) == 0 ]] || die "up must run as root"
  if all_running; then
    log "lab already up in $LAB"
    print_env
    return 0
  fi
  local start=$SECONDS n
  if [[ -e $LAB && ! -r $K/params ]] && [[ -n $(ls -A "$LAB" 2>/dev/null) ]]; then
    die "$LAB exists but was not made by lab.sh; run 'tests/lab/lab.sh down' first"
  fi
  if [[ -r $K/params && $(cat "$K/params") != "$MODE ${NODES[*]}" ]]; then
    die "a lab with other parameters ($(cat "$K/params")) exists in $LAB; run 'tests/lab/lab.sh down' first"
  fi
  "$NETNS_NODES" up "${NODES[@]}" || die "namespace nodes failed to start"
  mkdir -p "$K/pids" "$K/logs"
  echo "$MODE ${NODES[*]}" >"$K/params"
  make_pki
  write_kubeconfig "$K/admin.conf" "https://127.0.0.1:$API_PORT" kubernetes-admin cert admin
  write_kubeconfig "$K/super-admin.conf" "https://127.0.0.1:$API_PORT" kubernetes-super-admin cert super-admin
  start_control_plane
  apply_objects
  start_fake_kubelet
  for n in "${NODES[@]}"; do wait_for 60 "podCIDR of node $n" node_has_podcidr "$n"; done
  wait_for 60 "service account tokens" bash -c "[[ -n \$('$BIN/kubectl' --kubeconfig '$K/super-admin.conf' -n kube-flannel get secret flannel-token -o jsonpath='{.data.token}') && -n \$('$BIN/kubectl' --kubeconfig '$K/super-admin.conf' -n kube-system get secret kube-proxy-token -o jsonpath='{.data.token}') ]]"
  wait_for 60 "DaemonSet pods on every node" bash -c "(( \$('$BIN/kubectl' --kubeconfig '$K/super-admin.conf' -n kube-flannel get pods -l app=flannel -o name | wc -l) >= ${#NODES[@]} ))"
  for n in "${NODES[@]}"; do setup_node "$n"; done
  wait_for 60 "nodes Ready" nodes_ready
  wait_for 90 "DaemonSets and CoreDNS rolled out" rollout_done
  for n in "${NODES[@]}"; do wait_for 60 "kube-proxy and flanneld state on $n" node_programmed "$n"; done
  write_inventory
  date -u +%FT%TZ >"$K/up"
  log "lab up in $((SECONDS - start)) s (mode $MODE, nodes ${NODES[*]})"
  print_env
}

cmd_down() {
  if [[ -d $K/pids ]]; then
    # Everything is thrown away with its namespaces, so there is no order to respect and no state to save.
    local all=() f
    for f in "$K"/pids/*; do [[ -e $f ]] && all+=("${f##*/}"); done
    stop_procs "${all[@]+"${all[@]}"}"
  fi
  # Anything else still running inside a namespace of this lab (e.g. a kube-proxy a test started by hand).
  local ns ino pid link holders=" " inodes=" "
  while read -r ns _; do
    [[ $ns == "$PREFIX"-* ]] || continue
    ino=$(netns_inode "$ns") || continue
    inodes+="net:[$ino] "
    [[ -r $LAB/${ns#"$PREFIX"-}/pid ]] && holders+="$(cat "$LAB/${ns#"$PREFIX"-}/pid") "
  done < <(ip netns list 2>/dev/null)
  if [[ $inodes != " " ]]; then
    while read -r pid link; do
      pid=${pid#/proc/}; pid=${pid%%/*}
      [[ $inodes == *" $link "* && $holders != *" $pid "* ]] || continue
      log "stopping stray process $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80)) in a lab namespace"
      kill -KILL "$pid" 2>/dev/null || true
    done < <(find /proc/[0-9]*/ns/net -maxdepth 0 -printf '%p %l\n' 2>/dev/null)
  fi
  "$NETNS_NODES" down 2>/dev/null || die "netns-nodes.sh down failed"
  log "lab $LAB is down"
}

cmd_status() {
  local f
  [[ -d $K/pids ]] || { log "no lab in $LAB"; return 0; }
  for f in "$K"/pids/*; do
    [[ -e $f ]] || continue
    if proc_ok "${f##*/}"; then printf '%-40s running (%s)\n' "${f##*/}" "$(cat "$f")"; else printf '%-40s DEAD\n' "${f##*/}"; fi
  done
  kc get nodes -o wide || true
}

# stop|start kube-proxy|flanneld [NODE...]: the real node programs, as a DaemonSet deletion or a new pod would.
cmd_program() {
  local verb=$1 prog=${2:-} n nodes
  shift 2 || true
  nodes=("$@")
  (( ${#nodes[@]} )) || nodes=("${NODES[@]}")
  case $prog in
    kube-proxy | flanneld) ;;
    *) die "$verb: program must be kube-proxy or flanneld, got '$prog'" ;;
  esac
  [[ -r $K/up ]] || die "$verb: no lab up in $LAB"
  for n in "${nodes[@]}"; do
    [[ -r $LAB/$n/pid ]] || die "$verb: no node '$n' in $LAB"
    stop_procs "$n.$prog"
    if [[ $verb == start ]]; then
      if [[ $prog == kube-proxy ]]; then start_kube_proxy "$n"; else start_flanneld "$n"; fi
      log "$prog started on $n (log: $K/logs/$n.$prog.log)"
    else
      log "$prog stopped on $n"
    fi
  done
}

cmd_smoke() {
  cd "$REPO"
  "$PY" -m pytest -q -p no:cacheprovider tests/lab/test_lab_smoke.py "$@"
}

cmd_test() {
  cd "$REPO"
  local start=$SECONDS s
  "$LAB_SRC/build.sh" # a no-op once the binaries are cached
  cmd_smoke
  for s in molecule/lab_*/ molecule/migrate/; do # every scenario that needs the lab
    [[ -f $s/molecule.yml ]] || continue
    s=${s%/}; s=${s#molecule/}
    log "molecule scenario $s"
    (cd "$REPO" && molecule test -s "$s")
  done
  "$PY" -m pytest -q -p no:cacheprovider tests/lab/test_cleanup_comparison.py # own 1-node labs (kcmp, port 36454)
  "$PY" -m pytest -q -p no:cacheprovider tests/lab/test_flannel_helm_removal.py # own 1-node lab (kfh, port 36455)
  log "lab suite done in $((SECONDS - start)) s"
}

action=${1:-}
shift || true
case $action in
  build) "$LAB_SRC/build.sh" "$@" ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) all_running || die "no running lab in $LAB"; print_env ;;
  stop | start) cmd_program "$action" "$@" ;;
  smoke) cmd_smoke "$@" ;;
  test) cmd_test ;;
  *) sed -n '4,26p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
