#!/usr/bin/env bash
# Starts the whole stack (docker-compose.yml) and waits until every service is healthy. On a fresh
# machine it first installs what is missing (Debian packages, a Docker engine with Compose v2) and
# builds the offline stand-in images; USE_OFFICIAL_IMAGES=1 uses the official images instead.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
started=$SECONDS

bash scripts/prerequisites.sh
bash scripts/engine.sh
# No bootstrap: nothing here runs the project's Node on the host, the service images build inside docker.
bash infra/images/build.sh
load_image_env

log "building the service images and starting the stack"
docker compose up -d --build --wait

api=http://localhost:${HOST_API_PORT:-8080}
management=http://localhost:${HOST_MANAGEMENT_PORT:-9080}
zipkin=http://localhost:${HOST_ZIPKIN_PORT:-9411}
victoria=http://localhost:${HOST_VICTORIAMETRICS_PORT:-8428}
# A token set in the environment is the operator's: not echoed. The development default is.
admin_token="local-admin-token (the development default)"
[ -z "${ADMIN_TOKEN:-}" ] || admin_token="the one in \$ADMIN_TOKEN"
cat <<INFO

Stack up in $((SECONDS - started)) s ($(docker compose ps --format '{{.Service}}' | sort | uniq -c | awk '{printf "%s%s x%s", sep, $2, $1; sep=", "}')).
  API            $api
  API reference  $api/docs   (OpenAPI document: $api/openapi.json)
  Management     $management   (127.0.0.1 only: /metrics, /admin/settings/{key}; 404 on the API port)
  provider-sim   http://localhost:8090   (SMS sent: http://localhost:8090/sms/messages)
  Kafka          localhost:9092
  Traces         $zipkin/zipkin/   (Zipkin: every request, event and provider call, one trace per update)
  Metrics        $victoria/vmui/#/dashboards   (VictoriaMetrics: the Profile platform dashboard; query at $victoria/vmui/)
  Demo login     demo@example.com / demo password
                 curl -c jar -H 'content-type: application/json' $api/users/login/ \\
                   -d '{"email":"demo@example.com","password":"demo password"}'
  Admin token    $admin_token   (Authorization: Bearer ... on $management/admin/settings/{key})
Logs: docker compose logs -f [service]. Stop: bash scripts/down.sh [--volumes]
INFO
