#!/usr/bin/env bash
# Run every benchmark; each prints one `BENCH <name> <figure> <unit> target <op> <value>` line. Figures are
# reported, not asserted: compare them with the targets side by side.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
rc=0
python tests/bench/bench_report.py || rc=1
tests/bench/bench_preflight.sh || rc=1
python tests/bench/bench_purge.py || rc=1
exit "$rc"
