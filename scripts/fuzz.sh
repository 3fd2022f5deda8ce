#!/usr/bin/env bash
# The fuzz stage: schemathesis (pinned, from PyPI) against profile-api's served /openapi.json,
# logged in, with a fixed and a random seed (tests/fuzz/run-schemathesis.ts does the run).
# The venv lives outside the clone, keyed by version, so a warm machine does not reinstall.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

SCHEMATHESIS_VERSION="4.32.5"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/profile-platform/schemathesis-$SCHEMATHESIS_VERSION"

# The stamp is written last: an interrupted install is never taken as done.
if [ ! -f "$venv/.installed" ]; then
  command -v python3 >/dev/null || die "python3 is needed for schemathesis"
  log "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  "$venv/bin/schemathesis" --version | grep -qF "$SCHEMATHESIS_VERSION" || die "schemathesis did not install"
  touch "$venv/.installed"
fi

load_image_env
SCHEMATHESIS="$venv/bin/schemathesis" exec node --conditions=source tests/fuzz/run-schemathesis.ts
