#!/usr/bin/env bash
# Makes a Docker engine with Compose v2 answer. Does nothing where one already answers
# (a user's Docker Desktop); otherwise installs Debian's docker.io, starts dockerd without
# touching iptables' NAT, and drops forwarded container traffic that would leave the machine.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

compose_v2() { docker compose version 2>/dev/null | grep -qE 'v?2\.'; }

install_compose_v2() {
  # Bookworm ships Compose v1; trixie's docker-compose package is the v2 CLI plugin.
  log "installing Compose v2 (Debian trixie's docker-compose) as a CLI plugin"
  local state; state="$(mktemp -d)"
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/parts"
  local uri
  uri="$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
    grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ' || true)"
  [ -n "$uri" ] || uri="http://deb.debian.org/debian"
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s trixie main\n' "${uri%/}" >"$state/sources.list"
  local opts=(-o "Dir::Etc::sourcelist=$state/sources.list" -o "Dir::Etc::sourceparts=$state/parts"
    -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache" -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")
  apt-get "${opts[@]}" update -qq
  (cd "$state" && apt-get "${opts[@]}" download -qq docker-compose)
  dpkg -x "$state"/docker-compose_*.deb "$state/x"
  mkdir -p /usr/local/lib/docker/cli-plugins
  install -m 0755 "$state/x/usr/libexec/docker/cli-plugins/docker-compose" /usr/local/lib/docker/cli-plugins/docker-compose
  rm -rf "$state"
}

if docker info >/dev/null 2>&1; then
  compose_v2 || { [ "$(id -u)" = 0 ] && install_compose_v2; } || die "docker compose v2 is needed"
  log "docker engine $(docker version -f '{{.Server.Version}}') already answers"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "no docker engine answers and installing one needs root"

if ! command -v dockerd >/dev/null || ! command -v iptables >/dev/null; then
  log "installing docker.io and iptables from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io iptables >/dev/null
fi

log "starting dockerd (--iptables=false)"
setsid dockerd --iptables=false >/var/log/dockerd.log 2>&1 </dev/null &

for _ in $(seq 1 100); do docker info >/dev/null 2>&1 && break; sleep 0.3; done
docker info >/dev/null 2>&1 || { tail -20 /var/log/dockerd.log >&2; die "dockerd did not answer"; }

# With --iptables=false docker adds no rules and the host forwards: keep container packets on the machine.
for bridge in docker0 br-+; do
  iptables -C FORWARD -i "$bridge" ! -o "$bridge" -j DROP 2>/dev/null ||
    iptables -I FORWARD -i "$bridge" ! -o "$bridge" -j DROP
done

compose_v2 || install_compose_v2
log "docker engine $(docker version -f '{{.Server.Version}}'), $(docker compose version --short 2>/dev/null | sed 's/^/compose /')"
