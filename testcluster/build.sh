#!/usr/bin/env bash
# Builds (or reuses) the real control plane binaries the test suite runs:
# kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd and kwok, plus krew and
# validate-krew-manifest for the test of the krew manifest.
# Prints the directory that holds them. The directory lives outside the checkout and is keyed by every
# version involved (Go, Kubernetes, etcd, kwok, krew and the helper modules' go.sum), so a change rebuilds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly

go_version=$(go env GOVERSION)
sums=$(cat "$here"/kube/go.sum "$here"/etcd/go.sum "$here"/kwok/go.sum "$here"/krew/go.sum "$here"/build.sh | sha256sum | cut -c1-12)
key="kube-${KUBE_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_krew-${KREW_VERSION}_${go_version}_${sums}"
cache=${KUBECTL_DS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-ds}
bin="$cache/bin/$key"
log() { echo "[testcluster] $*" >&2; }

if [[ -f $bin/.complete ]]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$bin.tmp"

ver=${KUBE_VERSION#v}
major=${ver%%.*}
minor=${ver#*.}; minor=${minor%%.*}
stamp=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  stamp+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  stamp+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

start=$(date +%s)
if [[ ! -x $bin.tmp/kube-apiserver ]]; then
  log "building Kubernetes $KUBE_VERSION (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl); a cold build takes many minutes"
  (cd "$here/kube" && go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "-s -w$stamp" -o "$bin.tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
fi
if [[ ! -x $bin.tmp/etcd ]]; then
  log "building etcd $ETCD_VERSION"
  (cd "$here/etcd" && go build -trimpath -ldflags "-s -w" -o "$bin.tmp/etcd" go.etcd.io/etcd/server/v3)
fi
if [[ ! -x $bin.tmp/kwok ]]; then
  log "building kwok $KWOK_VERSION"
  (cd "$here/kwok" && go build -trimpath -ldflags "-s -w" -o "$bin.tmp/kwok" sigs.k8s.io/kwok/cmd/kwok)
fi
if [[ ! -x $bin.tmp/krew || ! -x $bin.tmp/validate-krew-manifest ]]; then
  log "building krew $KREW_VERSION"
  (cd "$here/krew" && go build -trimpath -ldflags "-s -w -X sigs.k8s.io/krew/internal/version.gitTag=$KREW_VERSION" -o "$bin.tmp/" \
    sigs.k8s.io/krew/cmd/krew sigs.k8s.io/krew/cmd/validate-krew-manifest)
fi
# kwok's default node and pod stages ship inside its module; the cluster script reads them from there.
kwok_dir=$(cd "$here/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
[[ -d $kwok_dir/kustomize/stage ]] || { log "kwok module has no kustomize/stage folder at $kwok_dir"; exit 1; }
echo "$kwok_dir" >"$bin.tmp/kwok-module-dir"
log "built in $(($(date +%s) - start))s"
touch "$bin.tmp/.complete"
rm -rf "$bin"
mv "$bin.tmp" "$bin"
echo "$bin"
