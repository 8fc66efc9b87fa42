#!/usr/bin/env bash
# Builds the local base image flotilla/base:bookworm (Debian bookworm, minbase) with debootstrap from
# this machine's apt mirror and `docker import`: no registry needed. Machines that can pull from a
# registry need none of this: the Dockerfiles default to debian:bookworm-slim (build arg BASE).
# Does nothing when the image already exists (FORCE=1 rebuilds it). Needs root and debootstrap.
set -euo pipefail
tag=${BASE_TAG:-flotilla/base:bookworm}
if [ -z "${FORCE:-}" ] && docker image inspect "$tag" >/dev/null 2>&1; then
  echo "build-base: $tag exists"; exit 0
fi
# The mirror apt already uses (deb822 or one-line sources), so the image's own apt reaches it too.
mirror=${MIRROR:-$(sed -n -e 's/^URIs: *\([^ ]*debian\)\/*$/\1/p' -e 's/^deb \(\[[^]]*\] \)\?\([^ ]*debian\)\/* bookworm .*/\2/p' \
  /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null | sed -n 1p || true)}
mirror=${mirror:-http://deb.debian.org/debian}
root=$(mktemp -d /tmp/flotilla-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "build-base: debootstrap bookworm from $mirror"
# minbase: dpkg, apt, bash and coreutils; enough for the JVM (glibc, zlib) and for apt in derived images.
debootstrap --variant=minbase bookworm "$root" "$mirror" >/tmp/flotilla-debootstrap.log 2>&1 \
  || { tail -20 /tmp/flotilla-debootstrap.log >&2; exit 1; }
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror" >"$root/etc/apt/sources.list"
# Keep the image small: no apt lists, caches, docs or man pages (derived images run apt-get update).
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/*
tar -C "$root" -c . | docker import -c 'CMD ["/bin/bash"]' -m "debootstrap --variant=minbase bookworm $mirror" - "$tag" >/dev/null
echo "build-base: $tag $(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}')"
