#!/usr/bin/env bash
# Debian packages the image build, the browser test and the fuzz stage need on a brand-new machine (the engine
# script brings docker). Rust (cargo) compiles the MongoDB stand-in and Go the VictoriaMetrics image;
# Debian's are too old for them, so they must come with the machine (rustup, go.dev's tarball).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

missing=()
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
command -v mvn >/dev/null || missing+=(maven)
command -v flock >/dev/null || missing+=(util-linux)
# The API reference page is tested in a real headless browser (tests/docs).
[ -x /usr/bin/chromium ] || missing+=(chromium)
# The fuzz stage installs schemathesis from PyPI into a venv (scripts/fuzz.sh).
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3 python3-venv)
command -v cargo >/dev/null || [ -x "$HOME/.cargo/bin/cargo" ] || [ "${USE_OFFICIAL_IMAGES:-0}" = 1 ] ||
  die "cargo (Rust >= 1.85, e.g. from rustup) is needed to build the MongoDB stand-in image; or set USE_OFFICIAL_IMAGES=1"
# VictoriaMetrics (the metrics image) is compiled from its Go module; Debian's Go is too old for it.
command -v go >/dev/null || [ -x /usr/local/go/bin/go ] || [ "${USE_OFFICIAL_IMAGES:-0}" = 1 ] ||
  die "go (>= 1.26, e.g. in /usr/local/go) is needed to build the VictoriaMetrics image; or set USE_OFFICIAL_IMAGES=1"
[ ${#missing[@]} -eq 0 ] && exit 0
[ "$(id -u)" = 0 ] || die "missing ${missing[*]}; install them (needs root)"
log "installing ${missing[*]} from Debian"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
