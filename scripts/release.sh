#!/usr/bin/env bash
# Builds the release archives of kubectl ds and renders the krew manifest for them.
#
#   scripts/release.sh [--out DIR] [--host-only] [--binary FILE] [--man-dir DIR]
#
# For every platform of krew-manifest.yaml whose Rust target this machine can build, it builds
# the binary (release profile) and packs it with LICENSE, README.md, the man pages and the shell
# completions into DIR (default dist/): kubectl-ds-vX.Y.Z-<target>.tar.gz (.zip on Windows).
# It then writes DIR/krew-manifest.yaml, the template with each built platform's uri and sha256
# filled in, and DIR/SHA256SUMS. Platforms it cannot build keep the template's URI and all-zero
# sha256 placeholder, marked with a "# PLACEHOLDER" comment, and are listed at the end.
#
#   --host-only     only the platform of this machine
#   --binary FILE   package FILE (built for this machine's target) instead of building; implies
#                   --host-only (the end-to-end test packages the binary it just built)
#   --man-dir DIR   take the man pages from DIR instead of generating them
#
# Environment: KUBECTL_DS_RELEASE_URL replaces the template's release URL prefix
# (https://github.com/OWNER/kubectl-ds) in the rendered manifest; SOURCE_DATE_EPOCH sets the
# archives' file times (default: the last commit's time), so the same inputs give the same bytes.
#
# What a target needs here: the Rust target (`rustup target add`, tried when missing) and, except
# for this machine's own target, a C compiler for it: for the C code of the TLS library (ring),
# and as the linker for another architecture or OS (Rust links x86_64 musl by itself):
#   x86_64-unknown-linux-musl   musl-gcc               (Debian: musl-tools)
#   aarch64-unknown-linux-musl  aarch64-linux-gnu-gcc  (Debian: gcc-aarch64-linux-gnu)
#   x86_64-pc-windows-gnu       x86_64-w64-mingw32-gcc (Debian: gcc-mingw-w64-x86-64)
#   *-apple-darwin              an Apple SDK and linker: cannot be built on Linux here; build those
#                               two on macOS (`cargo build --release --target ...`) and fill in
#                               their sha256 by hand or run this script there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
log() { echo "[release] $*" >&2; }
die() { log "error: $*"; exit 1; }

out=$root/dist
host_only=false
binary=""
man_dir=""
while (($#)); do
  case $1 in
    --out) out=$2; shift 2 ;;
    --host-only) host_only=true; shift ;;
    --binary) binary=$2; host_only=true; shift 2 ;;
    --man-dir) man_dir=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
[[ -n $version ]] || die "no version in Cargo.toml"
tag=v$version
template=$root/krew-manifest.yaml
manifest_version=$(sed -n 's/^  version: \(.*\)$/\1/p' "$template")
[[ $manifest_version == "$tag" ]] || die "krew-manifest.yaml has spec.version $manifest_version, Cargo.toml has $version: bump the manifest"
if grep -Eo 'v[0-9]+\.[0-9]+\.[0-9]+' "$template" | grep -vqx "$tag"; then
  die "krew-manifest.yaml mentions a version other than $tag (URIs, caveats): update them together"
fi
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}

host_triple=$(rustc -vV | sed -n 's/^host: //p')
case $(uname -s)/$(uname -m) in
  Linux/x86_64) host_platform=linux/amd64 ;;
  Linux/aarch64) host_platform=linux/arm64 ;;
  Darwin/x86_64) host_platform=darwin/amd64 ;;
  Darwin/arm64) host_platform=darwin/arm64 ;;
  *) host_platform=unknown ;;
esac

# The Rust target for each platform of the manifest, best first: a static musl binary runs on
# every Linux; this machine's own target is the fallback for its platform.
candidates() {
  case $1 in
    linux/amd64) echo x86_64-unknown-linux-musl x86_64-unknown-linux-gnu ;;
    linux/arm64) echo aarch64-unknown-linux-musl aarch64-unknown-linux-gnu ;;
    darwin/amd64) echo x86_64-apple-darwin ;;
    darwin/arm64) echo aarch64-apple-darwin ;;
    windows/amd64) echo x86_64-pc-windows-gnu ;;
  esac
}

# The C compiler a target needs on this machine ("" = the default one will do), for the C code of
# the TLS library (ring) and, for another architecture, as the linker.
cross_cc() {
  case $1 in
    "$host_triple") echo "" ;;
    x86_64-unknown-linux-musl) [[ $host_triple == x86_64-unknown-linux-* ]] && echo musl-gcc || echo "$1-gcc" ;;
    aarch64-unknown-linux-*) [[ $host_triple == aarch64-unknown-linux-* ]] && echo "" || echo aarch64-linux-gnu-gcc ;;
    x86_64-pc-windows-gnu) echo x86_64-w64-mingw32-gcc ;;
    *-apple-darwin) [[ $host_triple == *-apple-darwin ]] && echo "" || echo "apple-sdk" ;;
  esac
}

# Whether $1 is linked by the cross compiler too (another architecture or OS), not only compiled with it.
links_with_cc() {
  [[ ${1%%-*} != "${host_triple%%-*}" || $1 == *windows* || $1 == *darwin* ]]
}

declare -A why_not
# Succeeds when this machine can build $1; otherwise records why in why_not[$1].
can_build() {
  local t=$1 cc
  cc=$(cross_cc "$t")
  if [[ $cc == apple-sdk ]]; then
    why_not[$t]="needs macOS (an Apple SDK and linker), which this $host_triple machine does not have"
    return 1
  fi
  if [[ -n $cc ]] && ! command -v "$cc" >/dev/null; then
    why_not[$t]="no C cross compiler $cc on PATH (linker and ring's C code)"
    return 1
  fi
  if [[ $t != "$host_triple" ]] && command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$t"; then
    local err
    if ! err=$(rustup target add "$t" 2>&1); then
      why_not[$t]="rustup target add $t failed: $(echo "$err" | tail -n1)"
      return 1
    fi
  fi
  return 0
}

build() {
  local t=$1 cc env=()
  cc=$(cross_cc "$t")
  if [[ -n $cc ]]; then
    local lower=${t//-/_}
    env=("CC_${lower}=$cc")
    links_with_cc "$t" && env+=("CARGO_TARGET_${lower^^}_LINKER=$cc")
  fi
  log "building $t"
  env "${env[@]}" cargo build --release --locked --target "$t" >&2
}

# Man pages come from the CLI definition (clap_mangen, run by a test of tests/completions.rs).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ -z $man_dir ]]; then
  man_dir=$work/man
  log "generating man pages"
  KUBECTL_DS_MAN_DIR=$man_dir cargo test --locked --quiet --test completions man_pages_cover_every_command \
    -- --exact >&2
fi
[[ -f $man_dir/kubectl-ds.1 ]] || die "no kubectl-ds.1 in $man_dir"

# stage TARGET BINARY: the archive's files, flat (krew's bin is the file name itself).
stage() {
  local t=$1 bin=$2 dir=$work/stage-$1 exe=kubectl-ds
  [[ $t == *windows* ]] && exe=kubectl-ds.exe
  rm -rf "$dir"
  mkdir -p "$dir/man" "$dir/completions"
  install -m 0755 "$bin" "$dir/$exe"
  install -m 0644 LICENSE README.md "$dir/"
  install -m 0644 "$man_dir"/*.1 "$dir/man/"
  install -m 0644 completions/_kubectl-ds completions/_kubectl-ds.ps1 completions/kubectl-ds.bash \
    completions/kubectl-ds.fish "$dir/completions/"
  install -m 0755 completions/kubectl_complete-ds "$dir/completions/"
  echo "$dir"
}

archive() {
  local t=$1 dir=$2 name=kubectl-ds-$tag-$1
  find "$dir" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  if [[ $t == *windows* ]]; then
    rm -f "$out/$name.zip"
    (cd "$dir" && find . -type f | LC_ALL=C sort | sed 's|^\./||' | TZ=UTC zip -q -X -@ "$out/$name.zip")
    echo "$name.zip"
  else
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
      -C "$dir" -cf - . | gzip -n >"$out/$name.tar.gz"
    echo "$name.tar.gz"
  fi
}

platforms=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64)
declare -A built_file built_sha built_target
for platform in "${platforms[@]}"; do
  if $host_only && [[ $platform != "$host_platform" ]]; then
    continue
  fi
  for t in $(candidates "$platform"); do
    if [[ -n $binary ]]; then
      [[ $t == "$host_triple" ]] || continue
      [[ -x $binary ]] || die "--binary $binary is not an executable file"
      bin=$binary
    else
      can_build "$t" || { log "skipping $t: ${why_not[$t]}"; continue; }
      if ! build "$t"; then
        why_not[$t]="cargo build --release --target $t failed (see the output above)"
        log "skipping $t: ${why_not[$t]}"
        continue
      fi
      bin=target/$t/release/kubectl-ds
      [[ $t == *windows* ]] && bin=$bin.exe
    fi
    file=$(archive "$t" "$(stage "$t" "$bin")")
    built_file[$platform]=$file
    built_target[$platform]=$t
    built_sha[$platform]=$(sha256sum "$out/$file" | cut -d' ' -f1)
    log "built $out/$file"
    break
  done
done

# The rendered manifest: the template with each built platform's uri and sha256 filled in.
release_url=${KUBECTL_DS_RELEASE_URL:-https://github.com/OWNER/kubectl-ds}
release_url=${release_url%/}
table=$work/built
: >"$table"
for platform in "${!built_file[@]}"; do
  echo "$platform $release_url/releases/download/$tag/${built_file[$platform]} ${built_sha[$platform]}" >>"$table"
done
awk -v table="$table" -v url="$release_url" '
  BEGIN {
    while ((getline line < table) > 0) { split(line, f, " "); uri[f[1]] = f[2]; sha[f[1]] = f[3] }
    print "# Rendered by scripts/release.sh from krew-manifest.yaml."
  }
  /^#/ { next }
  { gsub("https://github.com/OWNER/kubectl-ds", url) }
  /^ *os: / { os = $2 }
  /^ *arch: / { arch = $2 }
  /^ *uri: / {
    p = os "/" arch
    indent = $0; sub(/uri:.*/, "", indent)
    if (p in uri) { print indent "uri: " uri[p]; next }
    print indent "# PLACEHOLDER: no archive for " p " was built on this machine; uri and sha256 are not real"
  }
  /^ *sha256: / {
    if (p in sha) { indent = $0; sub(/sha256:.*/, "", indent); print indent "sha256: \"" sha[p] "\""; next }
  }
  { print }
' "$template" >"$out/krew-manifest.yaml"

(cd "$out" && for p in "${platforms[@]}"; do [[ -n ${built_file[$p]:-} ]] && echo "${built_sha[$p]}  ${built_file[$p]}"; done; true) >"$out/SHA256SUMS"

log "manifest: $out/krew-manifest.yaml"
for platform in "${platforms[@]}"; do
  if [[ -n ${built_file[$platform]:-} ]]; then
    log "  $platform: ${built_file[$platform]} (${built_target[$platform]})"
  elif $host_only && [[ $platform != "$host_platform" ]]; then
    log "  $platform: PLACEHOLDER (not attempted: --host-only)"
  else
    reasons=""
    for t in $(candidates "$platform"); do reasons+="$t: ${why_not[$t]:-not attempted}; "; done
    log "  $platform: PLACEHOLDER (${reasons%; })"
  fi
done
