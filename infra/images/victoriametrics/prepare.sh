#!/usr/bin/env bash
# Compiles VictoriaMetrics' single-node server (vmui embedded) from the Go module proxy into
# OUT/dist/usr/local/bin/victoria-metrics. Needs Go >= 1.26 (/usr/local/go/bin is tried); versions
# after v1.151.0 need a newer Go. Usage: prepare.sh OUT   (env: VICTORIAMETRICS_VERSION)
set -euo pipefail
out=$1
export PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { echo "go (>= 1.26) is needed to build VictoriaMetrics" >&2; exit 1; }
# Module downloads stay in the user's module cache (reused); the toolchain is the machine's own.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN=$out/dist/usr/local/bin GOFLAGS=-trimpath
go install \
  -ldflags "-s -w -X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=victoria-metrics-$VICTORIAMETRICS_VERSION" \
  "github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@$VICTORIAMETRICS_VERSION"
"$GOBIN/victoria-metrics" -version
