#!/usr/bin/env bash
# For a build host that reaches a Debian mirror but not Docker Hub: makes the `debian:bookworm-slim`
# base image locally with debootstrap, as the official image is made (debootstrap --variant=minbase,
# apt sources for bookworm, bookworm-updates and bookworm-security, no package lists left behind).
# Usage (as root):  docker/offline-base-image.sh [MIRROR]
#   MIRROR defaults to the first Debian mirror in this host's apt sources.
set -euo pipefail

mirror="${1:-}"
if [[ -z "$mirror" ]]; then
    mirror="$({ cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2> /dev/null || true; } \
        | { grep -v '^[[:space:]]*#' || true; } | { grep -oE 'https?://[^ ]+/debian/?( |$)' || true; } \
        | head -1 | tr -d ' ')"
fi
mirror="${mirror%/}"
if [[ -z "$mirror" ]]; then
    echo "no Debian mirror found in the apt sources; give one as the first argument" >&2
    exit 2
fi
command -v debootstrap > /dev/null || { echo "debootstrap is not installed (apt-get install debootstrap)" >&2; exit 2; }

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase bookworm "$root" "$mirror"

rm -f "$root/etc/apt/sources.list" "$root/etc/hostname" "$root/etc/resolv.conf"
cat > "$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $mirror-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
# as in the official image: no downloaded packages or package caches kept in layers
cat > "$root/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
echo 'APT::AutoRemove::SuggestsImportant "false";' > "$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
echo 'Acquire::Languages "none";' > "$root/etc/apt/apt.conf.d/docker-no-languages"
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/var/cache/debconf/*-old

tar --numeric-owner -C "$root" -c . | docker import --change 'CMD ["bash"]' - debian:bookworm-slim
echo "made debian:bookworm-slim from $(basename "$mirror") on $(date -u +%F)"
