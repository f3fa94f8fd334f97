#!/usr/bin/env bash
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Benchmark: the preflight over N namespace test nodes against `ansible -m ping` over the same nodes (one round
# trip per node), same inventory, same forks, best of R runs each. Prints
#   # preflight_vs_ping nodes=50 forks=50 ping=...s preflight=...s (best of 2)
#   BENCH preflight_vs_ping <ratio> ratio target <= 1.5
# Figures are reported, never asserted. Env: BENCH_NODES (50), BENCH_FORKS (50), BENCH_RUNS (2).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
# shellcheck source=tests/utils/env.sh
. tests/utils/env.sh

nodes="${BENCH_NODES:-50}"
forks="${BENCH_FORKS:-50}"
runs="${BENCH_RUNS:-2}"
export NETNS_PREFIX=kbench
export NETNS_LAB=/run/kubeshift-lab/kbench
work="$(mktemp -d /var/tmp/kubeshift-bench.XXXXXX)"
cleanup() { tests/utils/netns-nodes.sh down >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

names=()
for ((i = 1; i <= nodes; i++)); do names+=("$(printf 'n%02d' "$i")"); done
tests/utils/netns-nodes.sh down >/dev/null 2>&1 || true
tests/utils/netns-nodes.sh up "${names[@]}" 2>/dev/null
inventory="$NETNS_LAB/inventory.ini"
export ANSIBLE_FORKS="$forks" ANSIBLE_DEPRECATION_WARNINGS=false ANSIBLE_HOST_KEY_CHECKING=false

# time_run LABEL N CMD...: run CMD once, print its wall time in milliseconds; a failure aborts with the log tail.
time_run() {
  local label="$1" n="$2" start end
  shift 2
  start="$(date +%s%N)"
  if ! "$@" > "$work/$label.$n.log" 2>&1; then
    echo "bench_preflight: $label run $n failed:" >&2
    tail -n 30 "$work/$label.$n.log" >&2
    exit 1
  fi
  end="$(date +%s%N)"
  echo $(((end - start) / 1000000))
}
min() { if [ -z "$1" ] || [ "$2" -lt "$1" ]; then echo "$2"; else echo "$1"; fi; }

# Interleaved (ping, preflight, ping, preflight, ...) so a change in background load hits both alike.
ping_s=""; pre_s=""
for ((i = 1; i <= runs; i++)); do
  t="$(time_run ping "$i" ansible nodes -i "$inventory" -f "$forks" -m ansible.builtin.ping)"
  [ "$(grep -c 'SUCCESS' "$work/ping.$i.log")" = "$nodes" ] \
    || { echo "bench_preflight: ping did not reach all $nodes nodes" >&2; exit 1; }
  ping_s="$(min "$ping_s" "$t")"
  t="$(time_run preflight "$i" ansible-playbook playbooks/preflight.yml -i "$inventory" -f "$forks" \
    -e preflight_fail_on_error=false -e preflight_print_report=false -e "preflight_report_dir=$work/report")"
  pre_s="$(min "$pre_s" "$t")"
done
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); n=int(sys.argv[2]); assert len(r["nodes"])==n and all(e["verdict"]!="unknown" for e in r["nodes"].values()), "incomplete report"' \
  "$work/report/report.json" "$nodes"
# Times are in milliseconds, integer shell arithmetic only.
printf '# preflight_vs_ping nodes=%s forks=%s ping=%d.%03ds preflight=%d.%03ds (best of %s, interleaved; load %s)\n' \
  "$nodes" "$forks" $((ping_s / 1000)) $((ping_s % 1000)) $((pre_s / 1000)) $((pre_s % 1000)) "$runs" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"
ratio=$(((pre_s * 100 + ping_s / 2) / ping_s))
printf 'BENCH preflight_vs_ping %d.%02d ratio target <= 1.5\n' $((ratio / 100)) $((ratio % 100))
