#!/usr/bin/env bash
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Snapshot the host's own network and mount state into FILE (test infrastructure, never shipped).
# CI takes one before and one after the test jobs and fails on any difference:
#   tests/utils/host-snapshot.sh before.snap; ...tests...; tests/utils/host-snapshot.sh after.snap
#   diff -u before.snap after.snap
# Covered: links (with details), addresses, IPv4/IPv6 routes, named netns, mounts, iptables and ip6tables on both
# backends, the nft ruleset. Packet/byte counters are normalised and comment lines (timestamps) dropped, so two
# snapshots of an untouched host are identical. Read-only: no command here changes anything.
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 FILE" >&2; exit 2; }
out="$1"

section() {
  printf '=== %s\n' "$*"
  "$@" 2>&1 || printf '(exit %s)\n' "$?"
}

{
  section ip -d link show
  section ip addr show
  section ip route show
  section ip -6 route show
  section ip netns list
  section findmnt -rn -o TARGET,FSTYPE
  for tool in iptables-nft-save ip6tables-nft-save iptables-legacy-save ip6tables-legacy-save; do
    if command -v "$tool" >/dev/null 2>&1; then section "$tool"; else printf '=== %s (not installed)\n' "$tool"; fi
  done
  if command -v nft >/dev/null 2>&1; then section nft list ruleset; else printf '=== nft (not installed)\n'; fi
} | grep -v '^#' \
  | sed -E -e 's/\[[0-9]+:[0-9]+\]/[0:0]/g' -e 's/counter packets [0-9]+ bytes [0-9]+/counter packets 0 bytes 0/g' \
  > "$out"
echo "host-snapshot: wrote $out ($(wc -l < "$out") lines)" >&2
