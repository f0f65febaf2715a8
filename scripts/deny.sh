#!/usr/bin/env bash
# Dependency checks with cargo-deny (configuration: deny.toml): licenses, bans and sources, all
# offline. Advisories need the RustSec database, fetched from GitHub: they are checked when it
# can be fetched, and otherwise reported as not checked, with the fetch error (it does not fail).
# Installs cargo-deny into ~/.cargo/bin when it is missing (a one-off build of several minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[deny] $*" >&2; }
version=0.20.2

if ! command -v cargo-deny >/dev/null || [[ $(cargo-deny --version 2>/dev/null) != "cargo-deny $version" ]]; then
  log "installing cargo-deny $version (cached in ~/.cargo/bin)"
  cargo install --locked "cargo-deny@$version"
fi

cargo deny --locked --offline check --hide-inclusion-graph licenses bans sources

out=$(mktemp)
trap 'rm -f "$out"' EXIT
if cargo deny --locked check advisories >"$out" 2>&1; then
  log "advisories: none against the RustSec database"
elif grep -q "failed to fetch advisory database" "$out"; then
  log "advisories NOT checked: the RustSec database cannot be fetched from here:"
  grep -E "ERROR|fatal" "$out" >&2 || cat "$out" >&2
else
  cat "$out" >&2
  exit 1
fi
