#!/usr/bin/env bash
# Shows that scripts/deny.sh works on a machine that has never built the project and that its
# advisories check can fail:
#   1. the whole dependency check under an empty CARGO_HOME (no registry, no crates, no advisory
#      database; only the cargo-deny binary is copied in to save its build): it must pass, and say
#      which advisory database it used;
#   2. the advisories check on a scratch project whose lockfile pins smallvec 1.6.0, which has
#      RUSTSEC-2021-0003: it must fail and name that advisory.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
log() { echo "[deny-selftest] $*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CARGO_HOME=$work/cargo-home
mkdir -p "$CARGO_HOME/bin"
deny_bin=$(command -v cargo-deny || echo "${CARGO_HOME_ORIG:-$HOME/.cargo}/bin/cargo-deny")
[[ -x $deny_bin ]] || fail "cargo-deny is not installed (scripts/deny.sh installs it)"
cp "$deny_bin" "$CARGO_HOME/bin/"

log "1. scripts/deny.sh with an empty CARGO_HOME"
start=$SECONDS
"$root/scripts/deny.sh" 2>&1 | tee "$work/project.log" >&2 || fail "scripts/deny.sh failed with an empty CARGO_HOME"
grep -q "advisories: none against the " "$work/project.log" || fail "scripts/deny.sh did not report the advisory database it used"
log "   passed in $((SECONDS - start))s"

log "2. a scratch project that pins smallvec 1.6.0 (RUSTSEC-2021-0003)"
mkdir -p "$work/scratch/src"
cat >"$work/scratch/Cargo.toml" <<'TOML'
[package]
name = "deny-selftest-scratch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
smallvec = "=1.6.0"
TOML
: >"$work/scratch/src/lib.rs"
cargo generate-lockfile --quiet --manifest-path "$work/scratch/Cargo.toml"
status=0
"$root/scripts/deny.sh" --advisories "$work/scratch" >"$work/scratch.log" 2>&1 || status=$?
((status != 0)) || { cat "$work/scratch.log" >&2; fail "the advisories check passed a lockfile with smallvec 1.6.0"; }
grep -q "RUSTSEC-2021-0003" "$work/scratch.log" || { cat "$work/scratch.log" >&2; fail "the report does not name RUSTSEC-2021-0003"; }
log "   reported RUSTSEC-2021-0003 as expected ($(grep -m1 -o "against the .*" "$work/scratch.log" || echo "database not named"))"
log "passed"
