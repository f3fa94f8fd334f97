#!/bin/sh
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Run inside a lab node: rules, a link and a CNI config that belong to nobody the clean-up targets; they must survive.
# Idempotent: does nothing when the marker chain exists.
set -eu
if iptables -t filter -S LAB-KEEP >/dev/null 2>&1; then
  exit 0
fi
iptables -t filter -A INPUT -p tcp --dport 22 -m comment --comment lab-keep -j ACCEPT
iptables -t filter -N LAB-KEEP
iptables -t filter -A LAB-KEEP -s 192.0.2.0/24 -j DROP
iptables -t filter -A FORWARD -j LAB-KEEP
iptables -t nat -A POSTROUTING -s 198.51.100.0/24 -o eth0 -m comment --comment lab-keep -j MASQUERADE
ip6tables -t filter -A INPUT -p tcp --dport 22 -m comment --comment lab-keep -j ACCEPT
nft -f - <<'NFT'
table inet lab_keep {
  chain input {
    type filter hook input priority 10; policy accept;
    tcp dport 2222 accept
  }
}
NFT
ip link add keep0 type veth peer name keep1
ip addr add 192.0.2.1/24 dev keep0
ip link set keep0 up
ip link set keep1 up
mkdir -p /etc/cni/net.d
printf '{"cniVersion": "0.3.1", "name": "lo", "type": "loopback"}\n' > /etc/cni/net.d/99-loopback.conf
echo planted
