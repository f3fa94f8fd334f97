#!/usr/bin/env bash
# Run every molecule scenario (or the ones named as arguments). Lab-based scenarios (molecule/lab_*, migrate)
# need the Kubernetes lab binaries and are run by `tests/lab/lab.sh test` instead unless named explicitly.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
scenarios=("$@")
if ((${#scenarios[@]} == 0)); then
  for d in molecule/*/molecule.yml; do
    s="$(basename "$(dirname "$d")")"
    case "$s" in lab_*|migrate) continue ;; esac
    scenarios+=("$s")
  done
fi
rc=0
for s in "${scenarios[@]}"; do
  echo "== molecule test -s $s"
  start=$SECONDS
  if molecule test -s "$s"; then
    echo "== molecule $s: passed in $((SECONDS - start)) s"
  else
    echo "== molecule $s: FAILED after $((SECONDS - start)) s"; rc=1
  fi
done
exit "$rc"
