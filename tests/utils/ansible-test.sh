#!/usr/bin/env bash
# Run ansible-test (sanity | units) on a copy of the collection placed under an ansible_collections/ tree,
# as ansible-test requires. Extra arguments are passed through.
set -euo pipefail
what="${1:?usage: ansible-test.sh sanity|units [args]}"; shift
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${KUBESHIFT_CACHE:-$HOME/.cache/kubeshift-cilium}"
# A private copy per run, so that concurrent runs do not trample each other.
mkdir -p "$cache/ansible-test"
work="$(mktemp -d "$cache/ansible-test/run.XXXXXX")"
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/kubeshift/cilium"
mkdir -p "$dest"

# Copy what git tracks plus untracked files that are not ignored (the same set ansible-test would see).
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | \
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done | \
  tar --null -T - -cf -) | tar -C "$dest" -xf -
cd "$dest"
case "$what" in
  sanity) ansible-test sanity --python 3.11 --color no --exclude tests/lab/ "$@" ;;
  units)  ansible-test units --venv --python 3.11 --color no "$@" ;;
  *) echo "unknown: $what" >&2; exit 2 ;;
esac
