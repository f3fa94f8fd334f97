#!/usr/bin/env bash
# Build the collection artifact, install it into a scratch collections path, check that Ansible finds its
# content there, and let ansible-builder render the execution-environment build context.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${KUBESHIFT_CACHE:-$HOME/.cache/kubeshift-cilium}/build"
rm -rf "$out"; mkdir -p "$out"
cd "$repo"
ansible-galaxy collection build --force --output-path "$out" .
tarball="$(ls "$out"/kubeshift-cilium-*.tar.gz)"
echo "built: $tarball ($(tar -tzf "$tarball" | wc -l) files)"
if tar -tzf "$tarball" | grep -E '^(tests/lab/|\.venv/|\.ci/)' ; then
  echo "test infrastructure leaked into the artifact" >&2; exit 1
fi
ANSIBLE_COLLECTIONS_PATH="$out/collections" ansible-galaxy collection install --no-deps --force -p "$out/collections" "$tarball"
ANSIBLE_COLLECTIONS_PATH="$out/collections" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
  ansible-doc -t module kubeshift.cilium.node_facts >/dev/null
ANSIBLE_COLLECTIONS_PATH="$out/collections" ansible-doc -t role -l kubeshift.cilium
ansible-builder create -f execution-environment.yml -c "$out/ee-context" >/dev/null
# ansible-builder names the file after the container runtime it finds (Containerfile or Dockerfile).
containerfile="$out/ee-context/Containerfile"
[ -f "$containerfile" ] || containerfile="$out/ee-context/Dockerfile"
grep -q 'ANSIBLE_GALAXY_CLI_COLLECTION_OPTS' "$containerfile"
grep -rq 'ansible-core==2.19.14' "$out/ee-context"
echo "build: ok (ansible-builder context in $out/ee-context)"
