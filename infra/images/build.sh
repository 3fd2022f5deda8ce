#!/usr/bin/env bash
# Builds local stand-ins for the stack's images without any container registry, and writes
# <repo>/.env.images (MONGO_IMAGE, REDIS_IMAGE, KAFKA_IMAGE, NODE_IMAGE, ZIPKIN_IMAGE,
# VICTORIAMETRICS_IMAGE, HAPROXY_IMAGE) naming them.
#
#   infra/images/build.sh                        build what changed, write .env.images
#   USE_OFFICIAL_IMAGES=1 infra/images/build.sh  build nothing, name the official images instead
#   FORCE=1 infra/images/build.sh                rebuild every image (without docker's layer cache,
#                                                so apt installs fresh packages) from the cached artefacts;
#                                                delete .cache/ to fetch/compile those again too
#
# Each image is labelled with a hash of its inputs (its folder, the pinned versions below, its parent's
# hash); an image whose label matches is left alone. Downloads and builds that feed the images
# (rootfs tarball, Node/npm, Kafka jars, Zipkin jar, VictoriaMetrics binary) go to .cache/ (git-ignored) and are reused; the compiled
# secantusd-rs binary goes to a per-user cache keyed by its version (mongo/prepare.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
env_file=$(cd "$here/../.." && pwd)/.env.images
cache=$here/.cache
label=org.profile.inputs-hash
prefix=profile-local

# Pinned versions. Integrities are the npm registry's dist.integrity for those exact versions.
export DEBIAN_SUITE=bookworm
export NODE_VERSION=24.21.0
export NODE_SHA512=sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==
export NPM_VERSION=11.21.2
export NPM_SHA512=sha512-7HPApk+AflMUavSseL1Pm6CnYqMIHk53x+KmuhqmTDqPkjPMgxIpTPcTqsE91EKNw4gFBJV9fnXiSdGm1DXq9A==
export KAFKA_VERSION=4.1.2
export SECANTUS_VERSION=0.5.3-beta.196
export ZIPKIN_VERSION=3.6.1
# Later versions need a newer Go than the machine's 1.26.
export VICTORIAMETRICS_VERSION=v1.151.0
# The HA variant's balancer: Debian's package here (bookworm: 2.6 LTS); the official image otherwise.
export HAPROXY_OFFICIAL_VERSION=3.2

started=$SECONDS
export PATH=$PATH:$HOME/.cargo/bin:/usr/sbin:/sbin # cargo, debootstrap, chroot

# write_env MONGO REDIS KAFKA NODE ZIPKIN VICTORIAMETRICS HAPROXY: rewrite .env.images only when its content changes.
write_env() {
  local content
  content=$(printf 'MONGO_IMAGE=%s\nREDIS_IMAGE=%s\nKAFKA_IMAGE=%s\nNODE_IMAGE=%s\nZIPKIN_IMAGE=%s\nVICTORIAMETRICS_IMAGE=%s\nHAPROXY_IMAGE=%s' "$@")
  if [ ! -f "$env_file" ] || [ "$(cat "$env_file")" != "$content" ]; then
    printf '%s\n' "$content" > "$env_file.tmp" && mv "$env_file.tmp" "$env_file"
  fi
}

if [ "${USE_OFFICIAL_IMAGES:-0}" = 1 ]; then
  # Docker pulls these on first use on a machine that has a registry; nothing is pulled here.
  write_env mongo:8 redis:7-alpine "apache/kafka:$KAFKA_VERSION" node:24-bookworm-slim \
    "openzipkin/zipkin:$ZIPKIN_VERSION" "victoriametrics/victoria-metrics:$VICTORIAMETRICS_VERSION" \
    "haproxy:$HAPROXY_OFFICIAL_VERSION"
  echo "official images named in $env_file (nothing built) - total $((SECONDS - started)) s"
  exit 0
fi

docker version >/dev/null || { echo "docker engine not reachable" >&2; exit 1; }
mkdir -p "$cache/logs"
exec 9>"$cache/.lock"
flock 9 # two concurrent runs would share the cache folders

images=(base node redis kafka mongo zipkin victoriametrics haproxy) # build order: base first, the others are FROM it
declare -A tag=(
  [base]=$prefix/base:$DEBIAN_SUITE
  [node]=$prefix/node:24
  [redis]=$prefix/redis:7
  [kafka]=$prefix/kafka:$KAFKA_VERSION
  [mongo]=$prefix/mongo:secantus-$SECANTUS_VERSION
  [zipkin]=$prefix/zipkin:$ZIPKIN_VERSION
  [victoriametrics]=$prefix/victoria-metrics:$VICTORIAMETRICS_VERSION
  [haproxy]=$prefix/haproxy:$DEBIAN_SUITE
)
# Versions each image depends on; also passed as build args of the same name.
declare -A uses=(
  [base]="DEBIAN_SUITE"
  [node]="NODE_VERSION NODE_SHA512 NPM_VERSION NPM_SHA512"
  [redis]=""
  [kafka]="KAFKA_VERSION"
  [mongo]="SECANTUS_VERSION"
  [zipkin]="ZIPKIN_VERSION"
  [victoriametrics]="VICTORIAMETRICS_VERSION"
  [haproxy]=""
)
# Files whose change means re-running prepare.sh (others, e.g. a Dockerfile, only rebuild the image).
declare -A prepare_inputs=([base]="." [node]="prepare.sh" [kafka]="prepare.sh pom.xml" [mongo]="prepare.sh"
  [zipkin]="prepare.sh" [victoriametrics]="prepare.sh")

# digest_dir DIR [PATHS...]: modes, names and contents of the files (all of DIR by default).
digest_dir() {
  local dir=$1; shift
  (cd "$dir" && find "${@:-.}" -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sh -c 'stat -c "%a %n" "$@"; sha256sum "$@"' _)
}
versions_of() { local v; for v in ${uses[$1]}; do printf '%s=%s\n' "$v" "${!v}"; done; }
short_hash() { sha256sum | cut -c1-16; }

# What the base rootfs takes from this machine: its apt sources/config and extra CA certificates.
host_inputs() {
  shopt -s nullglob
  sha256sum /etc/apt/sources.list.d/debian.sources /etc/apt/apt.conf.d/99artifact-registry \
    /usr/local/share/ca-certificates/*.crt 2>/dev/null || true # optional ones may be missing
  shopt -u nullglob
}

declare -A hash art
for name in "${images[@]}"; do
  extra=""
  case $name in
    base) extra=$(host_inputs) ;;
  esac
  parent=""; [ "$name" = base ] || parent=${hash[base]}
  hash[$name]=$({ digest_dir "$here/$name"; versions_of "$name"; echo "$extra"; echo "$parent"; } | short_hash)
  if [ -n "${prepare_inputs[$name]:-}" ]; then
    # shellcheck disable=SC2086 # the list is split on purpose
    art[$name]=$cache/$name-$({ digest_dir "$here/$name" ${prepare_inputs[$name]}; versions_of "$name"; echo "$extra"; } | short_hash)
  fi
done

label_of() { docker image inspect -f "{{index .Config.Labels \"$label\"}}" "$1" 2>/dev/null || true; }
todo=()
for name in "${images[@]}"; do
  if [ "${FORCE:-0}" = 1 ] || [ "$(label_of "${tag[$name]}")" != "${hash[$name]}" ]; then
    todo+=("$name")
  else
    printf '%-15s %-40s up to date\n' "$name" "${tag[$name]}"
  fi
done

# Prepare missing artefacts of the images to build, in parallel (network- and CPU-bound mixes well).
declare -A pid
for name in "${todo[@]}"; do
  a=${art[$name]:-}
  if [ -z "$a" ] || [ -f "$a/.done" ]; then continue; fi
  for old in "$cache/$name"-*; do [ "$old" = "$a" ] || rm -rf "$old"; done # superseded versions
  rm -rf "$a" && mkdir -p "$a"
  ( # the job times itself: jobs finish in any order
    t=$SECONDS
    "$here/$name/prepare.sh" "$a" > "$cache/logs/$name-prepare.log" 2>&1
    echo $((SECONDS - t)) > "$a/.done"
  ) &
  pid[$name]=$!
done
failed=0
for name in "${!pid[@]}"; do
  if wait "${pid[$name]}"; then
    printf '%-15s artefacts ready in %d s\n' "$name" "$(cat "${art[$name]}/.done")"
  else
    echo "$name: prepare failed; last lines of $cache/logs/$name-prepare.log:" >&2
    tail -n 30 "$cache/logs/$name-prepare.log" >&2
    failed=1
  fi
done
[ "$failed" = 0 ] || exit 1

for name in "${todo[@]}"; do
  t=$SECONDS
  old_id=$(docker image inspect -f '{{.Id}}' "${tag[$name]}" 2>/dev/null || true)
  log=$cache/logs/$name-build.log
  if [ "$name" = base ]; then
    docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV LANG=C.UTF-8' --change 'CMD ["bash"]' \
      --change "LABEL $label=${hash[$name]}" \
      "${art[$name]}/dist/rootfs.tar" "${tag[$name]}" > "$log" 2>&1 || { cat "$log" >&2; exit 1; }
  else
    # Context = the image folder plus its prepared dist/ tree, streamed as one tar.
    ctx=(-C "$here/$name" .)
    [ -z "${art[$name]:-}" ] || ctx+=(-C "${art[$name]}" dist)
    build_args=()
    # FORCE also bypasses docker's layer cache, else a cached `apt-get install` layer would be reused.
    [ "${FORCE:-0}" != 1 ] || build_args+=(--no-cache)
    for v in ${uses[$name]}; do build_args+=(--build-arg "$v"); done
    tar -cf - "${ctx[@]}" | docker build --network=host "${build_args[@]}" \
      --label "$label=${hash[$name]}" -t "${tag[$name]}" - > "$log" 2>&1 || { tail -n 40 "$log" >&2; exit 1; }
  fi
  # Drop the image this one replaces (ours; fails harmlessly if a container or child still uses it).
  new_id=$(docker image inspect -f '{{.Id}}' "${tag[$name]}")
  if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then docker rmi "$old_id" >/dev/null 2>&1 || true; fi
  printf '%-15s %-40s built in %d s\n' "$name" "${tag[$name]}" $((SECONDS - t))
done

write_env "${tag[mongo]}" "${tag[redis]}" "${tag[kafka]}" "${tag[node]}" "${tag[zipkin]}" "${tag[victoriametrics]}" \
  "${tag[haproxy]}"
echo "wrote $env_file - total $((SECONDS - started)) s"
