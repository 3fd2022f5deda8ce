#!/usr/bin/env bash
# Starts the whole stack (docker-compose.yml) and waits until every service is healthy. On a fresh
# machine it first installs what is missing (Debian packages, a Docker engine with Compose v2) and
# builds the offline stand-in images; USE_OFFICIAL_IMAGES=1 uses the official images instead.
#   bash scripts/up.sh        the base stack (docker-compose.yml)
#   bash scripts/up.sh --ha   the highly available variant (docker-compose.yml + docker-compose.ha.yml):
#                             3 Kafka nodes, 3 profile-api replicas behind HAProxy, 3 loyalty-sync replicas
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
started=$SECONDS

files=(-f docker-compose.yml)
ha=0
case "${1:-}" in
  '') ;;
  --ha) ha=1 files+=(-f docker-compose.ha.yml) ;;
  *) die "usage: $0 [--ha]" ;;
esac

bash scripts/prerequisites.sh
bash scripts/engine.sh
# No bootstrap: nothing here runs the project's Node on the host, the service images build inside docker.
bash infra/images/build.sh
load_image_env

log "building the service images and starting the stack"
docker compose "${files[@]}" up -d --build --wait

api=http://localhost:${HOST_API_PORT:-8080}
management=http://localhost:${HOST_MANAGEMENT_PORT:-9080}
zipkin=http://localhost:${HOST_ZIPKIN_PORT:-9411}
victoria=http://localhost:${HOST_VICTORIAMETRICS_PORT:-8428}
kafka="localhost:${HOST_KAFKA_PORT:-9092}"
management_note="127.0.0.1 only: /metrics, /admin/settings/{key}; 404 on the API port"
if [ "$ha" = 1 ]; then
  kafka="localhost:${HOST_KAFKA_1_PORT:-19094},localhost:${HOST_KAFKA_2_PORT:-19095},localhost:${HOST_KAFKA_3_PORT:-19096}"
  management_note="through HAProxy to any replica, 127.0.0.1 only: /admin/settings/{key}; each replica's /metrics is in VictoriaMetrics"
fi
# A token set in the environment is the operator's: not echoed. The development default is.
admin_token="local-admin-token (the development default)"
[ -z "${ADMIN_TOKEN:-}" ] || admin_token="the one in \$ADMIN_TOKEN"
cat <<INFO

Stack up in $((SECONDS - started)) s ($(docker compose "${files[@]}" ps --format '{{.Service}}' | sort | uniq -c | awk '{printf "%s%s x%s", sep, $2, $1; sep=", "}')).
  API            $api
  API reference  $api/docs   (OpenAPI document: $api/openapi.json)
  Management     $management   ($management_note)
  provider-sim   http://localhost:${HOST_PROVIDER_SIM_PORT:-8090}   (SMS sent: http://localhost:${HOST_PROVIDER_SIM_PORT:-8090}/sms/messages)
  Kafka          $kafka
  Traces         $zipkin/zipkin/   (Zipkin: every request, event and provider call, one trace per update)
  Metrics        $victoria/vmui/#/dashboards   (VictoriaMetrics: the Profile platform dashboard; query at $victoria/vmui/)
  Demo login     demo@example.com / demo password
                 curl -c jar -H 'content-type: application/json' $api/users/login/ \\
                   -d '{"email":"demo@example.com","password":"demo password"}'
  Admin token    $admin_token   (Authorization: Bearer ... on $management/admin/settings/{key})
Logs: docker compose logs -f [service]. Stop: bash scripts/down.sh [--volumes]
INFO
