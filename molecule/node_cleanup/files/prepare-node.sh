#!/bin/sh
# Runs inside a namespace node: load the leftovers of a kubeadm + Flannel + kube-proxy node.
# Usage: prepare-node.sh legacy|nft|mixed FIXTURE_DIR FILES_DIR
set -eu
kind="$1"; fx="$2"; files="$3"
case "$kind" in legacy) n=1 ;; nft) n=2 ;; mixed) n=3 ;; *) echo "unknown node kind $kind" >&2; exit 2 ;; esac
[ "$(hostname)" = "$kind" ] || { echo "refusing: hostname is $(hostname), not $kind" >&2; exit 1; }

ipset restore < "$fx/ipset.save"
case "$kind" in
  legacy)
    iptables-legacy-restore -c < "$fx/legacy-iptables-mode.v4"
    ip6tables-legacy-restore -c < "$fx/nft-iptables-mode.v6" ;;
  nft)
    iptables-nft-restore -c < "$fx/nft-ipvs-mode.v4"
    ip6tables-nft-restore -c < "$fx/nft-iptables-mode.v6"
    nft -f "$fx/nft-tables.nft"
    cp "$fx/ipvsadm-Sn.txt" /run/ipvs.state
    cp "$files/fake-ipvsadm" /run/fake-ipvsadm; chmod 755 /run/fake-ipvsadm
    mount --bind /run/fake-ipvsadm /usr/sbin/ipvsadm
    ip link add kube-ipvs0 type veth peer name kipvs-peer
    ip addr add 10.96.0.1/32 dev kube-ipvs0
    ip addr add 10.96.0.10/32 dev kube-ipvs0
    ip addr add fd00:10:96::1/128 dev kube-ipvs0 nodad ;;
  mixed)
    iptables-legacy-restore -c < "$fx/legacy-iptables-mode.v4"
    ip6tables-nft-restore -c < "$fx/nft-iptables-mode.v6" ;;
esac

# Flannel's links: vxlan flannel.1 over a veth underlay (no dummy driver), bridge cni0, routes through both.
ip link add dummy-up type veth peer name dummy-peer
ip addr add "192.168.77.1$n/24" dev dummy-up
ip -6 addr add "fd77:77::1$n/64" dev dummy-up nodad
ip link set dummy-peer up
ip link set dummy-up up
ip link add flannel.1 type vxlan id 1 local "192.168.77.1$n" dev dummy-up dstport 8472 nolearning
ip addr add "10.244.$n.0/32" dev flannel.1
ip link set flannel.1 up
ip route add 10.244.9.0/24 via 10.244.9.0 dev flannel.1 onlink
ip link add cni0 type bridge
ip addr add "10.244.$n.1/24" dev cni0
ip link set cni0 up
ip link add docker0 type bridge
ip addr add 172.17.0.1/16 dev docker0
if [ "$kind" = mixed ]; then
  ip link add flannel-v6.1 type vxlan id 1 local "fd77:77::1$n" dev dummy-up dstport 8472 nolearning
  ip -6 addr add "fd00:10:244:$n::/128" dev flannel-v6.1 nodad
  ip link set flannel-v6.1 up
  ip -6 route add fd00:10:244:9::/64 via fd00:10:244:9:: dev flannel-v6.1 onlink
fi

# CNI configs and Flannel's runtime state
mkdir -p /etc/cni/net.d /run/flannel
cat > /etc/cni/net.d/10-flannel.conflist <<'JSON'
{
  "name": "cbr0",
  "cniVersion": "0.3.1",
  "plugins": [
    {"type": "flannel", "delegate": {"hairpinMode": true, "isDefaultGateway": true}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
cat > /etc/cni/net.d/99-loopback.conf <<'JSON'
{"cniVersion": "0.3.1", "name": "lo", "type": "loopback"}
JSON
if [ "$kind" = mixed ]; then
  cp /etc/cni/net.d/10-flannel.conflist /etc/cni/net.d/10-flannel.conflist.cilium_bak
fi
printf 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.%s.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n' "$n" \
  > /run/flannel/subnet.env
