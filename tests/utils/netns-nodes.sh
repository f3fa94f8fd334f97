#!/usr/bin/env bash
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Test nodes made of Linux namespaces (test infrastructure, never shipped).
#
#   tests/utils/netns-nodes.sh up NAME...   start nodes (and the hub) and (re)write the inventory
#   tests/utils/netns-nodes.sh down         stop every node of this lab, delete its netns and the lab dir
#   tests/utils/netns-nodes.sh list         one line per node: name, pid, state, IPv4, IPv6
#
# A node is a named network namespace "$NETNS_PREFIX-NAME" wired to bridge br0 in "$NETNS_PREFIX-hub", plus a
# long-lived holder process that owns private mount, UTS and IPC namespaces: overlays over /etc /var /root /opt
# /boot /usr/lib, its own /sys (empty /sys/fs/bpf mountpoint, the host's cgroup tree bound in), /run bound to
# $NETNS_LAB/NAME/run, a tmpfs /tmp, hostname NAME. Ansible reaches it with community.docker.nsenter.
#
# Environment:
#   NETNS_PREFIX                 netns name prefix (default: ks); use one per scenario
#   NETNS_LAB                    lab directory (default: /run/kubeshift-lab/$NETNS_PREFIX); must not lie under an
#                                overlaid directory (/etc /var /root /opt /boot /usr/lib)
#   NETNS_MODULES                default for every node: "builtin" (fake /lib/modules/$(uname -r) whose
#                                modules.builtin lists NETNS_BUILTIN_MODULES), "none" (no /lib/modules), or a
#                                directory copied to /lib/modules/$(uname -r) (e.g. a "modular" kernel layout)
#   NETNS_BUILTIN_MODULES        module names listed in the fake modules.builtin (default: a Flannel/Cilium set)
#   NODE_MODULES_<NAME>          per-node override of NETNS_MODULES
#   NODE_KERNEL_CONFIG_<NAME>    gzip kernel config bind-mounted over /proc/config.gz inside that node only
# <NAME> is the node name, or the node name upper-cased with every character outside [A-Za-z0-9_] turned into "_".
set -euo pipefail

PREFIX="${NETNS_PREFIX:-ks}"
LAB="${NETNS_LAB:-/run/kubeshift-lab/$PREFIX}"
HUB="$PREFIX-hub"
RELEASE="$(uname -r)"
MAX_NODES=240
OVERLAID="etc var root opt boot usr/lib"
DEFAULT_BUILTINS="vxlan geneve bridge br_netfilter veth overlay tun nf_tables nft_compat x_tables ip_tables
ip6_tables iptable_nat iptable_filter iptable_mangle iptable_raw xt_socket xt_mark xt_conntrack xt_comment
nf_nat nf_conntrack cls_bpf sch_ingress act_bpf"

die() { printf 'netns-nodes: %s\n' "$*" >&2; exit 1; }
log() { printf 'netns-nodes: %s\n' "$*" >&2; }

usage() {
  sed -n '4,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

check_prefix() {
  [[ "$PREFIX" =~ ^[A-Za-z0-9][A-Za-z0-9_.]{0,7}$ ]] \
    || die "NETNS_PREFIX '$PREFIX' must be 1-8 characters of [A-Za-z0-9_.] (no '-': it separates prefix and node)"
}

check_lab_dir() {
  local parent real d
  [[ "$LAB" = /* ]] || die "NETNS_LAB '$LAB' must be an absolute path"
  # Resolve the deepest existing ancestor so symlinks (e.g. /var/run -> /run) are judged by their target.
  parent="$LAB"
  while [ ! -e "$parent" ]; do parent="$(dirname "$parent")"; done
  real="$(realpath "$parent")${LAB#"$parent"}"
  for d in $OVERLAID; do
    case "$real/" in
      "/$d/"*) die "NETNS_LAB '$LAB' lies under /$d, which is overlaid inside the nodes; use e.g. /run/kubeshift-lab/$PREFIX" ;;
    esac
  done
  [ "$real" != / ] || die "NETNS_LAB must not be /"
}

# Environment variable lookup for a per-node hook: exact name first, then the sanitised upper-case name.
node_env() {
  local kind="$1" name="$2" var
  var="${kind}_${name}"
  if [[ "$var" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] && [ -n "${!var:-}" ]; then printf '%s' "${!var}"; return; fi
  var="${kind}_$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]' | tr -c 'A-Z0-9_' '_')"
  printf '%s' "${!var:-}"
}

# Holder is alive and still sits in the node's netns (guards against a recycled PID).
holder_alive() {
  local name="$1" pid ns_inode
  [ -r "$LAB/$name/pid" ] || return 1
  pid="$(cat "$LAB/$name/pid")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ -e "/run/netns/$PREFIX-$name" ] || return 1
  ns_inode="$(stat -L -c %i "/run/netns/$PREFIX-$name" 2>/dev/null)" || return 1
  [ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" = "net:[$ns_inode]" ]
}

ensure_hub() {
  if [ ! -e "/run/netns/$HUB" ]; then
    ip netns add "$HUB"
    ip -n "$HUB" link set lo up
    ip -n "$HUB" link add br0 type bridge
    ip -n "$HUB" addr add 10.77.0.1/24 dev br0
    ip -n "$HUB" addr add fd77::1/64 dev br0 nodad
    ip -n "$HUB" link set br0 up
  fi
}

next_index() {
  local used i
  used=" $(cat "$LAB"/*/index 2>/dev/null | tr '\n' ' ') "
  for ((i = 1; i <= MAX_NODES; i++)); do
    case "$used" in *" $i "*) ;; *) echo "$i"; return ;; esac
  done
  die "no free node index (at most $MAX_NODES nodes per lab)"
}

# Fill the node's upper dirs from the host side: hostname, hosts, fake /lib/modules.
prepare_upper() {
  local name="$1" dir="$LAB/$1" modules mods_dir m
  mkdir -p "$dir/run"
  for m in $OVERLAID; do mkdir -p "$dir/upper/$m" "$dir/work/$m"; done
  printf '%s\n' "$name" > "$dir/upper/etc/hostname"
  { grep -v -E '^127\.0\.1\.1[[:space:]]' /etc/hosts || true; printf '127.0.1.1 %s\n' "$name"; } > "$dir/upper/etc/hosts"
  modules="$(node_env NODE_MODULES "$name")"
  modules="${modules:-${NETNS_MODULES:-builtin}}"
  mods_dir="$dir/upper/usr/lib/modules/$RELEASE"
  case "$modules" in
    none) ;;
    builtin)
      mkdir -p "$mods_dir"
      for m in ${NETNS_BUILTIN_MODULES:-$DEFAULT_BUILTINS}; do
        printf 'kernel/fake/%s.ko\n' "$m"
      done > "$mods_dir/modules.builtin"
      : > "$mods_dir/modules.order"
      depmod -b "$dir/upper/usr" "$RELEASE" 2>>"$dir/holder.log" || log "$name: depmod failed (see $dir/holder.log)"
      ;;
    *)
      [ -d "$modules" ] || die "$name: NODE_MODULES / NETNS_MODULES '$modules' is neither none, builtin nor a directory"
      mkdir -p "$mods_dir"
      cp -a "$modules/." "$mods_dir/"
      ;;
  esac
}

start_holder() {
  local name="$1" dir="$LAB/$1" kconfig=""
  kconfig="$(node_env NODE_KERNEL_CONFIG "$name")"
  if [ -n "$kconfig" ]; then
    [ -f "$kconfig" ] || die "$name: NODE_KERNEL_CONFIG file '$kconfig' does not exist"
    cp "$kconfig" "$dir/config.gz"
    kconfig="$dir/config.gz"
  fi
  # The holder: everything referring to $LAB happens before /run and /tmp are covered. The pid is written by the
  # holder itself ($$ survives every exec down to `sleep`), readiness is the last line of its log.
  # shellcheck disable=SC2016  # the holder script expands its own variables
  setsid nsenter --net="/run/netns/$PREFIX-$name" \
    unshare --mount --uts --ipc --propagation private \
    env NODE="$name" DIR="$dir" KCONFIG="$kconfig" OVERLAID="$OVERLAID" \
    sh -euc '
      echo $$ > "$DIR/holder.pid"
      hostname "$NODE"
      mkdir -p "$DIR/sys"
      mount -t sysfs sysfs "$DIR/sys"
      mount --rbind /sys/fs/cgroup "$DIR/sys/fs/cgroup"
      mount --move "$DIR/sys" /sys
      for d in $OVERLAID; do
        mount -t overlay overlay -o "lowerdir=/$d,upperdir=$DIR/upper/$d,workdir=$DIR/work/$d" "/$d"
      done
      if [ -n "$KCONFIG" ]; then mount --bind "$KCONFIG" /proc/config.gz; fi
      # Drop the copies of /run/netns/* (other labs netns) this private mount namespace inherited.
      if mountpoint -q /run/netns; then umount -l /run/netns; fi
      mount --bind "$DIR/run" /run
      mount -t tmpfs -o mode=1777 tmpfs /tmp
      cd /
      echo ready
      exec sleep infinity
    ' </dev/null >"$dir/holder.log" 2>&1 &
}

wire_node() {
  local name="$1" idx="$2" ns="$PREFIX-$1" ip4 ip6
  ip4="10.77.0.$((10 + idx))"
  ip6="fd77::$((10 + idx))"
  ip netns add "$ns"
  ip -n "$HUB" link add "v$idx" type veth peer name eth0 netns "$ns"
  ip -n "$HUB" link set "v$idx" master br0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$ip4/24" dev eth0
  ip -n "$ns" addr add "$ip6/64" dev eth0 nodad
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via 10.77.0.1
  printf '%s %s\n' "$ip4" "$ip6" > "$LAB/$name/addr"
}

write_inventory() {
  local dir name idx ip4 ip6 tmp
  tmp="$LAB/.inventory.ini.tmp"
  {
    printf '# Written by tests/utils/netns-nodes.sh (lab %s). The pid comes from a file lookup: no lab, no run.\n' "$LAB"
    printf '[nodes]\n'
    for dir in "$LAB"/*/; do
      dir="${dir%/}"; name="${dir##*/}"
      [ -r "$dir/pid" ] || continue
      idx="$(cat "$dir/index")"
      read -r ip4 ip6 < "$dir/addr"
      printf '%s\t%s node_ip=%s node_ip6=%s\n' "$idx" "$name" "$ip4" "$ip6"
    done | sort -n | cut -f2-
    printf '\n[nodes:vars]\n'
    printf 'ansible_connection=community.docker.nsenter\n'
    printf 'ansible_python_interpreter=/usr/bin/python3\n'
    printf 'netns_lab=%s\n' "$LAB"
    # shellcheck disable=SC2016  # a Jinja expression for Ansible, not a shell expansion
    printf '%s\n' 'ansible_nsenter_pid="{{ lookup('"'"'ansible.builtin.file'"'"', netns_lab ~ '"'"'/'"'"' ~ inventory_hostname ~ '"'"'/pid'"'"') }}"'
  } > "$tmp"
  mv "$tmp" "$LAB/inventory.ini"
}

cmd_up() {
  local name idx i ready pending=() failed=0
  [ $# -gt 0 ] || die "up: give at least one node name"
  [ "$(id -u)" = 0 ] || die "up: must run as root"
  for name in "$@"; do
    [[ "$name" =~ ^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$ ]] \
      || die "up: node name '$name' must be a hostname label: lower-case letters, digits and '-', at most 32 characters"
    [ "$name" != hub ] || die "up: 'hub' is reserved"
  done
  [ "$(printf '%s\n' "$@" | sort | uniq -d)" = "" ] || die "up: duplicate node names: $*"
  mkdir -p "$LAB"
  ensure_hub
  for name in "$@"; do
    if holder_alive "$name"; then log "$name: already up"; continue; fi
    if [ -e "$LAB/$name" ] || [ -e "/run/netns/$PREFIX-$name" ]; then
      die "$name: leftovers of a stopped node ($LAB/$name or netns $PREFIX-$name); run '$0 down' first"
    fi
    mkdir -p "$LAB/$name"
    idx="$(next_index)"
    echo "$idx" > "$LAB/$name/index"
    prepare_upper "$name"
    wire_node "$name" "$idx"
    start_holder "$name"
    pending+=("$name")
  done
  # Readiness: poll every holder's log for its final "ready" line (up to 10 s in all).
  for ((i = 0; i < 200 && ${#pending[@]} > 0; i++)); do
    ready=()
    for name in "${pending[@]}"; do
      if grep -qx ready "$LAB/$name/holder.log" 2>/dev/null; then
        mv "$LAB/$name/holder.pid" "$LAB/$name/pid"
      else
        ready+=("$name")
      fi
    done
    pending=("${ready[@]+"${ready[@]}"}")
    [ ${#pending[@]} -eq 0 ] || sleep 0.05
  done
  for name in "${pending[@]+"${pending[@]}"}"; do
    failed=1
    log "$name: holder did not become ready; its log:"
    sed 's/^/    /' "$LAB/$name/holder.log" >&2 || true
  done
  write_inventory
  [ "$failed" = 0 ] || die "up: some nodes failed; run '$0 down' to clean up"
  log "up: $# node(s) in $LAB (inventory: $LAB/inventory.ini)"
}

cmd_down() {
  local dir name pid ns pids=() i alive
  check_lab_dir
  if [ -d "$LAB" ]; then
    for dir in "$LAB"/*/; do
      [ -d "$dir" ] || continue
      dir="${dir%/}"; name="${dir##*/}"
      if holder_alive "$name"; then
        pid="$(cat "$dir/pid")"
        kill -TERM "$pid" 2>/dev/null || true
        pids+=("$pid")
      elif [ -r "$dir/holder.pid" ]; then
        # A holder that never became ready: only kill it if it still sits in this node's netns.
        pid="$(cat "$dir/holder.pid")"
        if [ -e "/run/netns/$PREFIX-$name" ] && [[ "$pid" =~ ^[0-9]+$ ]] \
          && [ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" = "net:[$(stat -L -c %i "/run/netns/$PREFIX-$name")]" ]; then
          kill -TERM "$pid" 2>/dev/null || true
          pids+=("$pid")
        fi
      fi
    done
  fi
  for ((i = 0; i < 100; i++)); do
    alive=0
    for pid in "${pids[@]+"${pids[@]}"}"; do
      if kill -0 "$pid" 2>/dev/null; then alive=1; fi
    done
    [ "$alive" = 1 ] || break
    sleep 0.05
  done
  for pid in "${pids[@]+"${pids[@]}"}"; do kill -KILL "$pid" 2>/dev/null || true; done
  while read -r ns _; do
    case "$ns" in "$PREFIX"-*) ip netns delete "$ns" ;; esac
  done < <(ip netns list 2>/dev/null)
  rm -rf "$LAB"
  rmdir "$(dirname "$LAB")" 2>/dev/null || true
  log "down: lab $LAB removed"
}

cmd_list() {
  local dir name state ip4 ip6 pid
  [ -d "$LAB" ] || { log "no lab at $LAB"; return 0; }
  printf '%-20s %-8s %-6s %-14s %s\n' NODE PID STATE IPV4 IPV6
  for dir in "$LAB"/*/; do
    [ -d "$dir" ] || continue
    dir="${dir%/}"; name="${dir##*/}"
    pid="$(cat "$dir/pid" 2>/dev/null || echo -)"
    if holder_alive "$name"; then state=up; else state=down; fi
    read -r ip4 ip6 < "$dir/addr" 2>/dev/null || { ip4=-; ip6=-; }
    printf '%-20s %-8s %-6s %-14s %s\n' "$name" "$pid" "$state" "$ip4" "$ip6"
  done
}

[ $# -ge 1 ] || usage
check_prefix
check_lab_dir
action="$1"; shift
case "$action" in
  up) cmd_up "$@" ;;
  down) [ $# -eq 0 ] || die "down takes no arguments (it stops the whole lab $LAB)"; cmd_down ;;
  list) cmd_list ;;
  -h|--help|help) usage ;;
  *) usage ;;
esac
