#!/usr/bin/env bash
# Stops the stack started by scripts/up.sh, either variant (base or --ha). --volumes also deletes its
# data (MongoDB, Redis, Kafka).
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
# Both files: the HA variant's services are known by name, the base stack's Kafka is then an orphan
# (removed by --remove-orphans), and --volumes covers the volumes of both.
docker compose -f docker-compose.yml -f docker-compose.ha.yml down "${args[@]}"
