#!/usr/bin/env bash
# Stops the stack started by scripts/up.sh. --volumes also deletes its data (MongoDB, Redis, Kafka).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

args=(--remove-orphans)
case "${1:-}" in
  '') ;;
  --volumes | -v) args+=(--volumes) ;;
  *) die "usage: $0 [--volumes]" ;;
esac
load_image_env # the compose file names the images through these variables
docker compose down "${args[@]}"
