#!/usr/bin/env bash
# Every test, in order, as CI runs it (`make test` calls this after `make deps`). Each stage is timed; the job
# fails if any stage fails, and always checks at the end that the host's own links, routes, netfilter state and
# mounts are exactly what they were before (test-rigs §10).
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo" || exit 1
# shellcheck source=tests/utils/env.sh
. tests/utils/env.sh
snapdir="$(mktemp -d)"
tests/utils/host-snapshot.sh "$snapdir/before"

failed=()
stage() {
  local name="$1"; shift
  local start=$SECONDS
  echo; echo "######## $name"
  if "$@"; then
    echo "######## $name: ok ($((SECONDS - start)) s)"
  else
    echo "######## $name: FAILED ($((SECONDS - start)) s)"; failed+=("$name")
  fi
}

# The lab's Go build (minutes when cold, a no-op when cached) runs beside the static stages.
lab_build_log="$snapdir/lab-build.log"
lab_build_pid=""
if [ -x tests/lab/build.sh ]; then
  tests/lab/build.sh > "$lab_build_log" 2>&1 &
  lab_build_pid=$!
fi
wait_lab_build() {
  [ -n "$lab_build_pid" ] || return 0
  if ! wait "$lab_build_pid"; then
    cat "$lab_build_log"; return 1
  fi
  tail -n 3 "$lab_build_log"
}

stage sanity tests/utils/ansible-test.sh sanity
stage units tests/utils/ansible-test.sh units
stage lint tests/utils/lint.sh
stage build tests/utils/build.sh
stage integration python -m pytest -q -p no:cacheprovider tests/integration
stage molecule tests/utils/molecule.sh
if [ -x tests/lab/lab.sh ]; then
  stage lab-build wait_lab_build
  stage lab tests/lab/lab.sh test
fi
stage bench tests/bench/run.sh

tests/utils/host-snapshot.sh "$snapdir/after"
if ! diff -u "$snapdir/before" "$snapdir/after"; then
  echo "######## host safety: FAILED (the host changed; see the diff above)"; failed+=("host-safety")
else
  echo "######## host safety: ok (links, addresses, routes, netfilter, mounts unchanged)"
fi
rm -rf "$snapdir"

if ((${#failed[@]})); then
  echo "FAILED stages: ${failed[*]}"; exit 1
fi
echo "all stages passed"
