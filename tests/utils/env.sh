# shellcheck shell=bash
# Source this file to get the project's tool environment: the pinned venv first on PATH, the collection
# visible to Ansible from this checkout, and the helm/kubectl binaries extracted by bootstrap.sh.
# Usage: . tests/utils/env.sh
KUBESHIFT_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KUBESHIFT_CACHE="${KUBESHIFT_CACHE:-$HOME/.cache/kubeshift-cilium}"
# Ansible finds the collection through a symlink outside the tree (a link inside would make linters recurse).
KUBESHIFT_COLLECTIONS="$KUBESHIFT_CACHE/collections"
mkdir -p "$KUBESHIFT_COLLECTIONS/ansible_collections/kubeshift"
if [ "$(readlink "$KUBESHIFT_COLLECTIONS/ansible_collections/kubeshift/cilium" 2>/dev/null)" != "$KUBESHIFT_REPO" ]; then
  ln -sfn "$KUBESHIFT_REPO" "$KUBESHIFT_COLLECTIONS/ansible_collections/kubeshift/cilium"
fi
export KUBESHIFT_REPO KUBESHIFT_CACHE KUBESHIFT_COLLECTIONS
export PATH="$KUBESHIFT_REPO/.venv/bin:$KUBESHIFT_CACHE/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$KUBESHIFT_COLLECTIONS"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=true
# Plain pytest imports ansible_collections.kubeshift.cilium.* through the same link.
export PYTHONPATH="$KUBESHIFT_COLLECTIONS${PYTHONPATH:+:$PYTHONPATH}"
export ANSIBLE_NOCOWS=1
export ANSIBLE_FORCE_COLOR="${ANSIBLE_FORCE_COLOR:-0}"
export ANSIBLE_PYTHON_INTERPRETER="${ANSIBLE_PYTHON_INTERPRETER:-auto_silent}"
