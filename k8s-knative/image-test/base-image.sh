#!/usr/bin/env bash
# Make the offline stand-in for the `python:3.11-slim` base image, unless podman already has it.
#
# Container registries are unreachable here, so the image is built from Debian bookworm packages
# (whose python3 is 3.11) with debootstrap, from the Debian mirror apt on this machine already
# uses (read from /etc/apt/sources.list*), and imported under the name the Dockerfile uses.
set -euo pipefail

BASE_IMAGE="${BASE_IMAGE:-docker.io/library/python:3.11-slim}"
SUITE=bookworm

if podman image exists "$BASE_IMAGE"; then
    echo "base image $BASE_IMAGE already present (cached)"
    exit 0
fi

# First Debian mirror that apt uses for $SUITE, from deb822 (.sources) or one-line (.list) files.
debian_mirror() {
    local file
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
        [[ -f "$file" ]] || continue
        awk -v suite="$SUITE" '
            # one-line format: deb [options] URI SUITE COMPONENTS
            $1 == "deb" { for (i = 2; i < NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $(i + 1) == suite) { print $i; exit } }
            # deb822 format: a stanza with "URIs:" and a "Suites:" line naming the suite
            /^URIs:/ { uri = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite && uri != "") { print uri; exit } }
            /^$/ { uri = "" }
        ' "$file"
    done | head -n 1
}

MIRROR="$(debian_mirror)"
if [[ -z "$MIRROR" ]]; then
    echo "no Debian $SUITE mirror found in /etc/apt/sources.list*" >&2
    exit 1
fi

ROOTFS="$(mktemp -d)"
trap 'rm -rf "$ROOTFS"' EXIT
echo "debootstrap $SUITE from $MIRROR (takes ~2 min)"
timeout 600 debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 || {
    tail -n 30 "$ROOTFS.log" >&2
    exit 1
}
rm -f "$ROOTFS.log"
# What the real slim image leaves out too: package caches and lists, docs, man pages.
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* \
    "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/locale/*

version="$(chroot "$ROOTFS" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [[ "$version" != "3.11" ]]; then
    echo "stand-in base image has python $version, expected 3.11" >&2
    exit 1
fi

tar -C "$ROOTFS" -c . | podman import --quiet \
    --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' \
    - "$BASE_IMAGE" >/dev/null
echo "imported $BASE_IMAGE ($(podman image inspect --format '{{.Size}}' "$BASE_IMAGE") bytes)"
