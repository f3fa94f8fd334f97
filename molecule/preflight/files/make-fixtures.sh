#!/usr/bin/env bash
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Test fixtures for the preflight scenario (test code): kernel configs derived from this machine's
# /proc/config.gz, and a "modular" /lib/modules layout.
#   good.config.gz       the live config with the options this CI kernel lacks switched on (SCHEDSTATS,
#                        CRYPTO_USER_API_HASH): passes Cilium's base requirements
#   modular.config.gz    good + CONFIG_MODULES=y, vxlan and xt_socket built as modules (=m)
#   badkernel.config.gz  good with BPF_SYSCALL, BPF_JIT and CGROUP_BPF switched off: fails the base group
#   modules/             modules.builtin without vxlan/xt_socket, modules.dep listing both as loadable
set -euo pipefail
out="${1:?usage: make-fixtures.sh OUTDIR}"
mkdir -p "$out/modules"
[ -r /proc/config.gz ] || { echo "make-fixtures: /proc/config.gz is not readable on this machine" >&2; exit 1; }

# set_opt NAME VALUE|n : rewrite or append one option of the config read on stdin.
set_opts() {
  awk -v spec="$*" '
    BEGIN { n = split(spec, kv, " "); for (i = 1; i <= n; i++) { split(kv[i], p, "="); want[p[1]] = p[2] } }
    {
      name = ""
      if ($0 ~ /^CONFIG_[A-Za-z0-9_]+=/) { name = substr($0, 1, index($0, "=") - 1) }
      else if ($0 ~ /^# CONFIG_[A-Za-z0-9_]+ is not set$/) { name = $2 }
      if (name != "" && (name in want)) { print line(name, want[name]); done[name] = 1; next }
      print
    }
    END { for (name in want) if (!(name in done)) print line(name, want[name]) }
    function line(name, value) { return value == "n" ? "# " name " is not set" : name "=" value }
  '
}

zcat /proc/config.gz | set_opts CONFIG_SCHEDSTATS=y CONFIG_CRYPTO_USER_API_HASH=y > "$out/good.config"
set_opts CONFIG_MODULES=y CONFIG_VXLAN=m CONFIG_NETFILTER_XT_MATCH_SOCKET=m < "$out/good.config" | gzip -n > "$out/modular.config.gz"
set_opts CONFIG_BPF_SYSCALL=n CONFIG_BPF_JIT=n CONFIG_CGROUP_BPF=n < "$out/good.config" | gzip -n > "$out/badkernel.config.gz"
gzip -n -f "$out/good.config"

for m in bridge br_netfilter veth overlay tun nf_tables nft_compat x_tables ip_tables ip6_tables iptable_nat \
  iptable_filter iptable_mangle iptable_raw xt_mark xt_conntrack xt_comment nf_nat nf_conntrack cls_bpf \
  sch_ingress act_bpf; do
  printf 'kernel/fake/%s.ko\n' "$m"
done > "$out/modules/modules.builtin"
printf '%s\n' 'kernel/drivers/net/vxlan/vxlan.ko: kernel/net/ipv4/udp_tunnel.ko kernel/net/ipv6/ip6_udp_tunnel.ko' \
  'kernel/net/ipv4/udp_tunnel.ko:' 'kernel/net/ipv6/ip6_udp_tunnel.ko:' 'kernel/net/netfilter/xt_socket.ko:' \
  > "$out/modules/modules.dep"
: > "$out/modules/modules.order"
