#!/usr/bin/env bash
# Builds FerretDB from the Go module proxy into OUT/dist/usr/local/bin/ferretdb, the way its
# production image does (CGO off, -trimpath, GOAMD64=v1, no build tags).
# Plain `go install …@v` is not enough: the binary panics at start unless build/version/version.txt
# exists (it is generated, not in the module zip), so build from a writable copy of the module.
# Usage: prepare.sh OUT   (env: FERRETDB_VERSION)
set -euo pipefail
out=$1
export GOTOOLCHAIN=local CGO_ENABLED=0 GOAMD64=v1 GOFLAGS="-trimpath -buildvcs=false -modcacherw"
# Own module/build caches under OUT, so builds do not depend on (or fill) the user's Go caches.
export GOMODCACHE=$out/gomodcache GOCACHE=$out/gocache
mod=github.com/FerretDB/FerretDB@v$FERRETDB_VERSION
dir=$(go mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$dir" ] || { echo "go mod download $mod failed" >&2; exit 1; }
rm -rf "$out/src" && cp -r "$dir" "$out/src" && chmod -R u+w "$out/src"
echo "v$FERRETDB_VERSION" > "$out/src/build/version/version.txt"
echo "profile-local" > "$out/src/build/version/package.txt"
mkdir -p "$out/dist/usr/local/bin"
(cd "$out/src" && go build -o "$out/dist/usr/local/bin/ferretdb" ./cmd/ferretdb)
"$out/dist/usr/local/bin/ferretdb" --version
# The sources and caches are only needed for the build (the Go cache is several hundred MB).
rm -rf "$out/src" "$out/gomodcache" "$out/gocache"
