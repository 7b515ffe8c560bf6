#!/usr/bin/env bash
# landlord set-up: installs everything the project needs on a fresh Debian 12 machine.
#
# Idempotent: each step checks whether its result is already there and skips itself.
#   1. Debian packages (cluster runtime, Go toolchain, protocol servers and proxies for tests/benches)
#   2. npm dependencies, including the pinned Node.js 26 binary (node_modules/.bin/node)
#   3. Kubernetes 1.20.2 server binaries built from Debian's `kubernetes` source package, cached in
#      $LANDLORD_CACHE (default ~/.cache/landlord) so later runs and clones reuse them
#   4. the pause image binary, compiled statically from the same source tree
#
# Usage: scripts/setup.sh [--quiet]     (LANDLORD_SKIP_APT=1 skips step 1 when the caller knows better)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${LANDLORD_CACHE:-$HOME/.cache/landlord}
k8s_version=1.20.2
k8s_dir=$cache/kubernetes-$k8s_version
quiet=${1:-}

say() { [ "$quiet" = --quiet ] || printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }
elapsed() { echo "$(( $(date +%s) - $1 ))s"; }
started=$(date +%s)

# --- 1. Debian packages ---------------------------------------------------------------------------
apt_packages=(
  # the local cluster
  etcd-server containerd runc containernetworking-plugins iptables iproute2 conntrack socat ethtool
  # building Kubernetes and the pause image
  golang-go rsync dpkg-dev gcc libc6-dev make
  # reflect2 1.0.2, which works under Go 1.18+ (see step 3)
  golang-github-modern-go-reflect2-dev
  # real protocol servers, clients and the proxies we are measured against
  mariadb-server mariadb-client rabbitmq-server postgresql postgresql-client nginx libnginx-mod-stream haproxy stunnel4
  wrk openssl curl
  # the tiny test-app image is built from a static busybox
  busybox-static
)

missing_packages() {
  dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${apt_packages[@]}" 2>/dev/null |
    awk '$2 != "ii" { print $1 }'
  # dpkg-query prints nothing for packages it has never heard of
  for p in "${apt_packages[@]}"; do dpkg-query -W "$p" >/dev/null 2>&1 || echo "$p"; done
}

if [ "${LANDLORD_SKIP_APT:-}" != 1 ]; then
  missing=$(missing_packages | sort -u | tr '\n' ' ')
  if [ -n "${missing// /}" ]; then
    say "installing Debian packages: $missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # The services these packages would start are started by landlord's own tests when needed,
    # on private ports; keep the package scripts from launching system-wide daemons.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    rm -f /usr/sbin/policy-rc.d
  fi
fi

# --- 2. npm dependencies --------------------------------------------------------------------------
if [ ! -x "$here/node_modules/.bin/node" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  say "installing npm dependencies (pins Node.js 26)"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

# --- 3. Kubernetes binaries -----------------------------------------------------------------------
k8s_bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
have_all_bins() { for b in "${k8s_bins[@]}"; do [ -x "$k8s_dir/bin/$b" ] || return 1; done; [ -x "$k8s_dir/bin/pause" ]; }

# A binary that does not report the expected version (an older build of this script) is rebuilt.
# kubectl reports its version with a subcommand; the daemons with a flag.
bin_version() { if [ "$1" = kubectl ]; then "$k8s_dir/bin/kubectl" version --client --short 2>/dev/null; else "$k8s_dir/bin/$1" --version 2>/dev/null; fi; }
for b in "${k8s_bins[@]}"; do
  if [ -x "$k8s_dir/bin/$b" ] && ! bin_version "$b" | grep -q "v$k8s_version\$"; then
    say "$b in the cache is not v$k8s_version: rebuilding it"
    rm -f "$k8s_dir/bin/$b"
  fi
done

# Kubernetes 1.20 vendors reflect2 v1.0.1, whose map iteration is broken under Go 1.18+:
# kube-apiserver crashes in json-iterator on the first custom resource it decodes, or on the first
# JSON patch a mutating webhook returns ("fatal error: fault"). The build uses
# Debian's reflect2 1.0.2 instead; binaries built before that carry no stamp and are rebuilt once.
fixed_stamp=$k8s_dir/bin/.reflect2-1.0.2
if have_all_bins && [ ! -f "$fixed_stamp" ]; then say "cached Kubernetes binaries predate the reflect2 fix: rebuilding them"; fi

if ! have_all_bins || [ ! -f "$fixed_stamp" ]; then
  build=$cache/build
  mkdir -p "$build" "$k8s_dir/bin"
  if [ ! -d "$build/src/kubernetes" ]; then
    say "fetching Debian's kubernetes source package"
    if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src ' /etc/apt/sources.list; then
      cat > /etc/apt/sources.list.d/landlord-src.sources <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
      apt-get update -qq
    fi
    rm -rf "$build/fetch" && mkdir -p "$build/fetch"
    (cd "$build/fetch" && apt-get source -qq kubernetes >/dev/null 2>&1)
    tree=$(find "$build/fetch" -maxdepth 1 -mindepth 1 -type d -name 'kubernetes-*' | head -n 1)
    [ -n "$tree" ] || { echo "setup: apt-get source kubernetes produced no source tree" >&2; exit 1; }
    mkdir -p "$build/src" && mv "$tree" "$build/src/kubernetes" && rm -rf "$build/fetch"
  fi

  # Kubernetes 1.20 builds only in GOPATH mode; module mode wants go.mod updates.
  gopath=$build/gopath
  mkdir -p "$gopath/src/k8s.io"
  ln -sfn "$build/src/kubernetes" "$gopath/src/k8s.io/kubernetes"
  export GOPATH=$gopath GO111MODULE=off GOFLAGS= GOCACHE=$build/gocache
  src=$gopath/src/k8s.io/kubernetes

  reflect2=$src/vendor/github.com/modern-go/reflect2
  if [ ! -f "$reflect2/go_above_118.go" ]; then
    say "building with Debian's reflect2 1.0.2 instead of the vendored 1.0.1"
    rm -rf "$reflect2" && cp -a /usr/share/gocode/src/github.com/modern-go/reflect2 "$reflect2"
  fi

  if [ ! -f "$build/generated.stamp" ]; then
    say "generating Kubernetes sources (about 3 minutes cold)"
    t=$(date +%s)
    (cd "$src" && make generated_files >"$build/generated.log" 2>&1) ||
      { echo "setup: 'make generated_files' failed; see $build/generated.log" >&2; exit 1; }
    touch "$build/generated.stamp"
    say "generated in $(elapsed "$t")"
  fi

  # In GOPATH mode the version packages live under the vendor tree, so that is the -X path.
  v=k8s.io/kubernetes/vendor/k8s.io
  ldflags="-s -w -X $v/component-base/version.gitVersion=v$k8s_version \
-X $v/component-base/version.gitMajor=1 -X $v/component-base/version.gitMinor=20 \
-X $v/component-base/version.gitTreeState=clean \
-X $v/client-go/pkg/version.gitVersion=v$k8s_version \
-X $v/client-go/pkg/version.gitMajor=1 -X $v/client-go/pkg/version.gitMinor=20"
  for b in "${k8s_bins[@]}"; do
    [ -x "$k8s_dir/bin/$b" ] && [ -f "$fixed_stamp" ] && continue
    say "building $b"
    t=$(date +%s)
    (cd "$src" && go build -ldflags "$ldflags" -o "$k8s_dir/bin/$b.tmp" "./cmd/$b" >"$build/$b.log" 2>&1) ||
      { echo "setup: building $b failed; see $build/$b.log" >&2; exit 1; }
    mv "$k8s_dir/bin/$b.tmp" "$k8s_dir/bin/$b"
    say "built $b in $(elapsed "$t")"
  done
  touch "$fixed_stamp"

  if [ ! -x "$k8s_dir/bin/pause" ]; then
    say "building the pause binary"
    gcc -Os -static -DVERSION=3.6 -o "$k8s_dir/bin/pause" "$src/build/pause/linux/pause.c"
  fi
fi

say "ready in $(elapsed "$started") (Kubernetes binaries in $k8s_dir/bin)"
