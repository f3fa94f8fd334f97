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

# best_of LABEL CMD...: run CMD $runs times, print the fastest wall time in seconds; any failure aborts.
best_of() {
  local label="$1" best="" start end t i
  shift
  for ((i = 1; i <= runs; i++)); do
    start="$(date +%s.%N)"
    if ! "$@" > "$work/$label.$i.log" 2>&1; then
      echo "bench_preflight: $label run $i failed:" >&2
      tail -n 30 "$work/$label.$i.log" >&2
      exit 1
    fi
    end="$(date +%s.%N)"
    t="$(echo "$end - $start" | bc -l)"
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best="$t"; fi
  done
  printf '%.2f' "$best"
}

ping_s="$(best_of ping ansible nodes -i "$inventory" -f "$forks" -m ansible.builtin.ping)"
grep -c 'SUCCESS' "$work/ping.1.log" | grep -qx "$nodes" || { echo "bench_preflight: ping did not reach all $nodes nodes" >&2; exit 1; }
pre_s="$(best_of preflight ansible-playbook playbooks/preflight.yml -i "$inventory" -f "$forks" \
  -e preflight_fail_on_error=false -e preflight_print_report=false -e "preflight_report_dir=$work/report")"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); n=int(sys.argv[2]); assert len(r["nodes"])==n and all(e["verdict"]!="unknown" for e in r["nodes"].values()), "incomplete report"' \
  "$work/report/report.json" "$nodes"
ratio="$(echo "$pre_s / $ping_s" | bc -l)"
printf '# preflight_vs_ping nodes=%s forks=%s ping=%ss preflight=%ss (best of %s)\n' "$nodes" "$forks" "$ping_s" "$pre_s" "$runs"
printf 'BENCH preflight_vs_ping %.2f ratio target <= 1.5\n' "$ratio"
