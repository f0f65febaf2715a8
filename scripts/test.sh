#!/usr/bin/env bash
# The project's test command: installs what is missing, builds (or reuses) the real control plane,
# then runs the whole suite: unit, CLI and end-to-end tests against that control plane.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
log() { echo "[test] $*" >&2; }

need=()
for tool in openssl curl python3; do command -v "$tool" >/dev/null || need+=("$tool"); done
if ((${#need[@]})); then
  log "installing ${need[*]}"
  if [[ $(id -u) == 0 ]]; then apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq "${need[@]}" >/dev/null; fi
fi
command -v go >/dev/null || { log "Go is required to build the test control plane (see README)"; exit 1; }
command -v cargo >/dev/null || { log "Rust (cargo) is required (see README)"; exit 1; }

start=$SECONDS
bin=$(testcluster/build.sh)
log "control plane binaries: $bin ($((SECONDS - start))s)"
export KUBECTL_DS_TEST_BIN_DIR=$bin
cargo test --locked --all-targets "$@"
