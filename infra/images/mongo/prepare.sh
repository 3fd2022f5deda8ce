#!/usr/bin/env bash
# Builds SecantusDB's MongoDB-compatible server (`secantusd-rs`, crate secantus-mdb) from crates.io
# into OUT/dist/usr/local/bin/secantusd-rs.
# The compiled binary is kept in a per-user cache keyed by the crate version, outside the clone, so a
# fresh clone on a warm machine never compiles it again (a cold compile takes ~9 min on 2 cores).
# The crate declares a newer rust-version than the machine's rustc, which builds it fine: hence
# --ignore-rust-version. --locked takes the crate's own lockfile.
# Usage: prepare.sh OUT   (env: SECANTUS_VERSION; BUILD_CACHE_DIR, default ~/.cache/profile-platform)
set -euo pipefail
out=$1
cache_root=${BUILD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/profile-platform}
cached=$cache_root/secantusd-rs/$SECANTUS_VERSION
export PATH=$PATH:$HOME/.cargo/bin
mkdir -p "$cache_root"
exec 8>"$cache_root/.secantusd-rs.lock"
flock 8 # two clones building at once compile once
if [ ! -x "$cached/secantusd-rs" ]; then
  command -v cargo >/dev/null || { echo "cargo (Rust) is needed to build secantusd-rs" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  CARGO_TARGET_DIR=$work/target cargo install secantus-mdb --version "$SECANTUS_VERSION" \
    --ignore-rust-version --locked --root "$work/root"
  mkdir -p "$cached"
  install -m 0755 "$work/root/bin/secantusd-rs" "$cached/secantusd-rs.tmp"
  mv "$cached/secantusd-rs.tmp" "$cached/secantusd-rs"
fi
mkdir -p "$out/dist/usr/local/bin"
install -m 0755 "$cached/secantusd-rs" "$out/dist/usr/local/bin/secantusd-rs"
