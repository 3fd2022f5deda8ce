#!/usr/bin/env bash
# Builds the base rootfs tarball (OUT/dist/rootfs.tar): debootstrap minbase, pointed at this machine's
# Debian mirror and trusting its extra CA certs, so images FROM it can apt-get install with no registry.
# Usage: prepare.sh OUT   (env: DEBIAN_SUITE)
set -euo pipefail
out=$1
here=$(cd "$(dirname "$0")" && pwd)
suite=${DEBIAN_SUITE:-bookworm}
sources=/etc/apt/sources.list.d/debian.sources
# The first URIs: entry is the main archive; the later one is debian-security.
mirror=$(awk '/^URIs:/ {print $2; exit}' "$sources")
root=${out:?}/rootfs

rm -rf "$root" && mkdir -p "$root" "$out/dist"
debootstrap --variant=minbase --include=ca-certificates "$suite" "$root" "$mirror"

# apt: the machine's deb822 sources (main + security) replace debootstrap's one-line sources.list.
rm -f "$root/etc/apt/sources.list"
install -m 644 "$sources" "$root/etc/apt/sources.list.d/debian.sources"
install -m 644 "$here"/apt/* "$root/etc/apt/apt.conf.d/"
# The machine's own apt tweaks for its mirror (e.g. no Valid-Until check on a snapshot), if any.
if [ -f /etc/apt/apt.conf.d/99artifact-registry ]; then
  install -m 644 /etc/apt/apt.conf.d/99artifact-registry "$root/etc/apt/apt.conf.d/"
fi
# Like debuerreotype: package scripts must not try to start services inside builds.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

# The machine's extra CAs (TLS-intercepting egress), so curl/openssl/Java inside images trust it too.
shopt -s nullglob
crts=(/usr/local/share/ca-certificates/*.crt)
if ((${#crts[@]})); then install -m 644 "${crts[@]}" "$root/usr/local/share/ca-certificates/"; fi
chroot "$root" update-ca-certificates

# Drop caches, logs and host-specific files (docker provides resolv.conf/hostname at run time).
rm -rf "${root:?}"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/archives/partial/* \
  "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/var/log/apt/* \
  "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old "$root"/tmp/* \
  "$root"/etc/resolv.conf "$root"/etc/hostname "${root:?}"/dev/*

tar --numeric-owner -C "$root" -cf "$out/dist/rootfs.tar" .
rm -rf "$root"
