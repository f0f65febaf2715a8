#!/usr/bin/env bash
# Dependency checks with cargo-deny (configuration: deny.toml): licenses, bans, sources and
# advisories. Works on a machine that has never built the project:
#   - every crate of the lockfile, for every target, is fetched first (`cargo fetch --locked`):
#     cargo-deny reads the whole graph offline, not only the crates the host build downloaded;
#   - advisories come from the RustSec database fetched from GitHub when that can be reached, and
#     otherwise from the offline snapshot beside the checkout (../shared/advisory-db, a git bundle;
#     KUBECTL_DS_ADVISORY_BUNDLE names another). The database used and its date are printed.
#     Advisories are never skipped: with neither database this fails.
# Installs cargo-deny into $CARGO_HOME/bin when it is missing (a one-off build of a few minutes).
#
#   scripts/deny.sh                 the project's own lockfile
#   scripts/deny.sh --advisories DIR only the advisories check, for the project in DIR (the
#                                    self-test in scripts/deny-selftest.sh uses it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
log() { echo "[deny] $*" >&2; }
version=0.20.2
cargo_home=${CARGO_HOME:-$HOME/.cargo}
bundle=${KUBECTL_DS_ADVISORY_BUNDLE:-$root/../shared/advisory-db/advisory-db.bundle}
# The folder cargo-deny 0.20 clones the default database URL into (a hash of that URL).
db_dir=$cargo_home/advisory-dbs/advisory-db-3157b0e258782691

only_advisories=""
project=$root
if [[ ${1:-} == --advisories ]]; then
  only_advisories=1
  project=$(cd "${2:?--advisories needs a project folder}" && pwd)
fi

if [[ $(cargo deny --version 2>/dev/null) != "cargo-deny $version" ]]; then
  log "installing cargo-deny $version into $cargo_home/bin"
  start=$SECONDS
  cargo install --locked --quiet "cargo-deny@$version"
  log "cargo-deny installed in $((SECONDS - start))s"
fi

cd "$project"
log "fetching every crate the lockfile names, for every target"
cargo fetch --locked --quiet

if [[ -z $only_advisories ]]; then
  cargo deny --locked --offline check --hide-inclusion-graph licenses bans sources
fi

# Says which database a check used: its commit, that commit's date and where it came from.
describe_db() {
  local subject date
  subject=$(git -C "$db_dir" log -1 --format=%s 2>/dev/null || true)
  date=$(git -C "$db_dir" log -1 --format=%cs 2>/dev/null || echo "unknown date")
  case $subject in
    "RustSec advisory-db snapshot of "*) echo "offline snapshot of the RustSec database at upstream commit ${subject##* }, $date ($1)" ;;
    *) echo "RustSec database at commit $(git -C "$db_dir" rev-parse --short HEAD 2>/dev/null), $date ($1)" ;;
  esac
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
check() { cargo deny --locked "$@" check --hide-inclusion-graph advisories >"$out" 2>&1; }
report() {
  local status=$1 source=$2
  if ((status == 0)); then
    log "advisories: none against the $(describe_db "$source")"
  else
    cat "$out" >&2
    log "advisories: the check FAILED against the $(describe_db "$source")"
    exit 1
  fi
}

status=0
check || status=$?
if ! grep -q "failed to fetch advisory database" "$out"; then
  report "$status" "fetched"
  exit 0
fi

log "the RustSec database cannot be fetched from here: $(grep -m1 -oE 'Could not resolve host[^)]*|fatal: .*' "$out" || echo "see below")"
if [[ ! -f $bundle ]]; then
  cat "$out" >&2
  log "and there is no offline snapshot at $bundle (set KUBECTL_DS_ADVISORY_BUNDLE to a git bundle of"
  log "the RustSec advisory-db): advisories cannot be checked, which fails this check"
  exit 1
fi
# A database fetched earlier stays if it is newer than the snapshot; otherwise the snapshot is laid in.
fresh=$(mktemp -d)
git clone -q -b main "$bundle" "$fresh/db"
# cargo-deny fetches from the clone's origin: point it at the real database, so that a machine that
# can reach GitHub updates it there instead of from the snapshot.
git -C "$fresh/db" remote set-url origin https://github.com/RustSec/advisory-db
snapshot_time=$(git -C "$fresh/db" log -1 --format=%ct)
current_time=$(git -C "$db_dir" log -1 --format=%ct 2>/dev/null || echo 0)
if ((current_time < snapshot_time)); then
  mkdir -p "$(dirname "$db_dir")"
  rm -rf "$db_dir"
  mv "$fresh/db" "$db_dir"
  source_desc="laid in from $bundle"
else
  source_desc="the copy already here, not older than the snapshot"
fi
rm -rf "$fresh"
status=0
check --offline || status=$?
report "$status" "$source_desc"
