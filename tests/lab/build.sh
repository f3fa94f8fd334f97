#!/usr/bin/env bash
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Build the lab's binaries from the pinned Go modules under tests/lab/go/ into a
# cache outside the repository:
#   ${KUBESHIFT_CACHE:-$HOME/.cache/kubeshift-cilium}/lab/<component>-<version>/bin/
# Each component directory carries a stamp (sha256 of go.mod, go.sum, Go version and
# build flags); when the stamp matches, the component is not rebuilt, so a second
# build is a no-op.
#
# Usage: build.sh [kubernetes|etcd|flannel ...]   (default: all)
#        build.sh --print-bin <component>          (print the bin dir, build nothing)
#        build.sh --print-version <component>      (print the pinned version, build nothing)
set -euo pipefail

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT=${KUBESHIFT_CACHE:-$HOME/.cache/kubeshift-cilium}/lab
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}

export GOFLAGS=-mod=mod
# One Go build cache for all components (they share many dependencies).
export GOCACHE=${LAB_GOCACHE:-$CACHE_ROOT/go-build}

log() { printf '[lab-build] %s\n' "$*" >&2; }
die() { printf '[lab-build] ERROR: %s\n' "$*" >&2; exit 1; }

# component -> module path of the pinned upstream, and the packages to build
declare -A UPSTREAM=(
  [kubernetes]=k8s.io/kubernetes
  [etcd]=go.etcd.io/etcd/server/v3
  [flannel]=github.com/flannel-io/flannel
)

component_version() {
  # The version is read from the component's go.mod require line.
  local comp=$1 mod=${UPSTREAM[$1]}
  awk -v m="$mod" '$1 == m && $2 ~ /^v/ {print $2; exit} $1 == "require" && $2 == m {print $3; exit}' \
    "$LAB_SRC/go/$comp/go.mod"
}

component_dir() { echo "$CACHE_ROOT/$1-$(component_version "$1")"; }

ldflags_for() {
  local comp=$1 ver
  ver=$(component_version "$comp")
  case $comp in
    kubernetes)
      local major minor
      major=${ver#v}; major=${major%%.*}
      minor=${ver#v"$major".}; minor=${minor%%.*}
      local x
      for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        x+=" -X $pkg.gitVersion=$ver -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
        x+=" -X $pkg.gitTreeState=clean -X $pkg.gitCommit=kubeshift-lab-$ver"
        x+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
      done
      echo "-s -w$x"
      ;;
    flannel)
      echo "-s -w -X github.com/flannel-io/flannel/pkg/version.Version=$ver"
      ;;
    *)
      echo "-s -w"
      ;;
  esac
}

# flanneld's udp backend is cgo (as upstream builds it); everything else is pure Go.
cgo_for() {
  case $1 in
    flannel) echo 1 ;;
    *) echo 0 ;;
  esac
}

packages_for() {
  case $1 in
    kubernetes)
      echo k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
        k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kube-proxy ;;
    etcd) echo go.etcd.io/etcd/server/v3 ;;
    flannel) echo github.com/flannel-io/flannel ;;
  esac
}

# name of the produced binary for a package
binary_name() {
  case $1 in
    go.etcd.io/etcd/server/v3) echo etcd ;;
    github.com/flannel-io/flannel) echo flanneld ;;
    *) basename "$1" ;;
  esac
}

stamp_for() {
  local comp=$1
  {
    cat "$LAB_SRC/go/$comp/go.mod" "$LAB_SRC/go/$comp/go.sum"
    "$GO" version
    ldflags_for "$comp"
    packages_for "$comp"
    cgo_for "$comp"
  } | sha256sum | cut -d' ' -f1
}

build_one() {
  local comp=$1 dir want pkg
  [[ -f $LAB_SRC/go/$comp/go.mod ]] || die "unknown component '$comp' (no $LAB_SRC/go/$comp/go.mod)"
  dir=$(component_dir "$comp")
  want=$(stamp_for "$comp")
  if [[ -f $dir/stamp ]] && [[ $(cat "$dir/stamp") == "$want" ]]; then
    local ok=1
    for pkg in $(packages_for "$comp"); do
      [[ -x $dir/bin/$(binary_name "$pkg") ]] || ok=0
    done
    if (( ok )); then
      log "$comp $(component_version "$comp") up to date in $dir"
      return 0
    fi
  fi
  mkdir -p "$dir/bin" "$GOCACHE"
  rm -f "$dir/stamp"
  log "building $comp $(component_version "$comp") into $dir/bin"
  local start=$SECONDS
  for pkg in $(packages_for "$comp"); do
    (cd "$LAB_SRC/go/$comp" &&
      CGO_ENABLED=$(cgo_for "$comp") "$GO" build -trimpath -ldflags="$(ldflags_for "$comp")" \
        -o "$dir/bin/$(binary_name "$pkg").tmp" "$pkg") ||
      die "go build of $pkg failed (component $comp)"
    mv -f "$dir/bin/$(binary_name "$pkg").tmp" "$dir/bin/$(binary_name "$pkg")"
  done
  echo "$want" >"$dir/stamp"
  log "$comp built in $((SECONDS - start)) s; $(du -sh "$dir/bin" | cut -f1) of binaries"
}

if [[ ${1:-} == --print-version ]]; then
  [[ -n ${2:-} && -n ${UPSTREAM[$2]:-} ]] || die "--print-version needs one of: ${!UPSTREAM[*]}"
  component_version "$2"
  exit 0
fi
if [[ ${1:-} == --print-bin ]]; then
  [[ -n ${2:-} ]] || die "--print-bin needs a component"
  echo "$(component_dir "$2")/bin"
  exit 0
fi

comps=("$@")
(( ${#comps[@]} )) || comps=(kubernetes etcd flannel)
for c in "${comps[@]}"; do
  build_one "$c"
done
