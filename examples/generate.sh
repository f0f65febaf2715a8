#!/usr/bin/env bash
# Regenerates examples/snapshot.json from examples/scenario.yaml on the project's test control
# plane (real DaemonSet controller, scheduler and kwok), so the example is what a cluster really does.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dir=$(mktemp -d)
trap 'testcluster/cluster.sh down "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
testcluster/cluster.sh up --dir "$dir" >/dev/null
export KUBECONFIG=$dir/kubeconfig.yaml
kubectl=$(cat "$dir/bin-dir")/kubectl
"$kubectl" apply -f examples/scenario.yaml >/dev/null
# Let the agents land, then take worker-4's kubelet down.
sleep 8
"$kubectl" label node worker-4 kubectl-ds.test/stage=not-ready >/dev/null
for _ in $(seq 1 60); do
  "$kubectl" get node worker-4 -o jsonpath='{.spec.taints[*].key}' | grep -q not-ready && break
  sleep 1
done
sleep 5
if [[ -n ${KUBECTL_DS:-} ]]; then "$KUBECTL_DS" snapshot -A; else cargo run --quiet --locked -- snapshot -A; fi >examples/snapshot.json
echo "wrote examples/snapshot.json" >&2
