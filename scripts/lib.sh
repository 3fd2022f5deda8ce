# Shared shell helpers: sourced by the project's scripts, never run directly.
# Puts the project's Node 24 and pnpm first on PATH when bootstrap installed them.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
NODE_VERSION="24.21.0"
PNPM_VERSION="10.34.9"

export NPM_CONFIG_UPDATE_NOTIFIER=false
export NPM_CONFIG_FUND=false
export NPM_CONFIG_AUDIT=false
export NO_UPDATE_NOTIFIER=1
export PNPM_DISABLE_SELF_UPDATE_CHECK=true
export COREPACK_ENABLE_DOWNLOAD_PROMPT=0

log() { printf '\033[1m[%s]\033[0m %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ -x "$TOOLS/node/bin/node" ] && export PATH="$TOOLS/node/bin:$PATH"
[ -x "$TOOLS/pnpm/bin/pnpm" ] && export PATH="$TOOLS/pnpm/bin:$PATH"

# Image names chosen by infra/images/build.sh on a machine without a registry.
load_image_env() {
  if [ -f "$ROOT/.env.images" ]; then
    set -a
    # shellcheck disable=SC1091
    . "$ROOT/.env.images"
    set +a
  fi
}
