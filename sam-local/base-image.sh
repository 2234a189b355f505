#!/usr/bin/env bash
# Make the offline stand-in for the Lambda Python 3.12 base image, tagged with the public image's
# name so that `sam local invoke --skip-pull-image` uses it (`make sam-local-image`).
#
# Container registries are unreachable here, so the image is assembled from parts this machine
# has, in the public image's layout (github.com/aws/aws-lambda-base-images, branch python3.12):
#   - a Debian bookworm root filesystem (debootstrap from the mirror apt already uses) with the
#     shared libraries CPython's extension modules load;
#   - the runtime's Python: the machine's CPython 3.12 (LAMBDA_PYTHON, pyenv) copied to /var/lang,
#     the public image's prefix (its standard library only; site-packages stays empty);
#   - the runtime interface client awslambdaric in /var/runtime (the folder `make lambda-ric`
#     fills), /var/runtime/bootstrap, /lambda-entrypoint.sh, the RIE at /usr/local/bin;
#   - the public image's ENV, WORKDIR and ENTRYPOINT.
# The result is cached in podman's storage under a label naming a hash of every input: a second run
# does nothing; a changed input rebuilds it (and drops SAM's derived "-rapid-" image).
#
# Environment: LAMBDA_PYTHON (a python3.12), RIC_DIR (awslambdaric installed --target for it),
# RIE (the aws-lambda-rie-x86_64 binary), IMAGE (default public.ecr.aws/lambda/python:3.12-x86_64).
set -euo pipefail
cd "$(dirname "$0")/.."
# Progress goes to stderr: `make -s sam-local-invoke` prints the function's JSON result only.
exec 1>&2

IMAGE="${IMAGE:-public.ecr.aws/lambda/python:3.12-x86_64}"
RAPID_IMAGE="${IMAGE%-x86_64}-rapid-x86_64"
SUITE=bookworm
HERE=sam-local
: "${LAMBDA_PYTHON:?set LAMBDA_PYTHON to a python3.12}" "${RIC_DIR:?}" "${RIE:?}"
# Shared libraries of the extension modules the runtime's Python may load (ssl, ctypes, sqlite3,
# lzma, bz2, zlib, readline, uuid, curses, pyexpat, nis). tkinter is left out, as in the image.
LIBRARIES=libssl3,libffi8,libsqlite3-0,liblzma5,libbz2-1.0,zlib1g,libreadline8,libncursesw6,libuuid1,libexpat1,libtirpc3,libnsl2,libcrypt1,ca-certificates,locales
LABEL=io.nameorigin.sam-local.inputs

# Tools: podman (the engine sam talks to), runc (see containers.conf), debootstrap. CI runs as root
# on a fresh machine and installs them (as k8s-knative/image-test.sh does).
missing=()
for tool in podman runc debootstrap; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
    if ((EUID != 0)); then
        echo "missing ${missing[*]}: install them (apt-get install podman runc debootstrap)" >&2
        exit 1
    fi
    echo "installing ${missing[*]} (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends podman runc debootstrap >/dev/null
fi
export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/$HERE/containers.conf}"

version="$("$LAMBDA_PYTHON" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
if [[ "$version" != 3.12.* ]]; then
    echo "LAMBDA_PYTHON=$LAMBDA_PYTHON is Python $version, the Lambda runtime is 3.12" >&2
    exit 1
fi
prefix="$("$LAMBDA_PYTHON" -c 'import sys; print(sys.base_prefix)')"
ric_version="$(cat "$RIC_DIR"/awslambdaric-*.dist-info/METADATA | awk '/^Version:/ {print $2; exit}')"
inputs="$(
    {
        echo "suite=$SUITE libraries=$LIBRARIES python=$version awslambdaric=$ric_version"
        sha256sum "$0" "$RIE" "$HERE/rootfs/lambda-entrypoint.sh" "$HERE/rootfs/var/runtime/bootstrap" | cut -d' ' -f1
    } | sha256sum | cut -c1-16
)"

if podman image exists "$IMAGE" &&
    [[ "$(podman image inspect --format "{{index .Labels \"$LABEL\"}}" "$IMAGE")" == "$inputs" ]]; then
    echo "stand-in $IMAGE already present (cached, inputs $inputs)"
    exit 0
fi

# First Debian mirror that apt uses for $SUITE, from deb822 (.sources) or one-line (.list) files
# (the same lookup as k8s-knative/image-test/base-image.sh).
debian_mirror() {
    local file
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
        [[ -f "$file" ]] || continue
        awk -v suite="$SUITE" '
            $1 == "deb" { for (i = 2; i < NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $(i + 1) == suite) { print $i; exit } }
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
trap 'rm -rf "$ROOTFS" "$ROOTFS.log"' EXIT
echo "debootstrap $SUITE from $MIRROR (takes ~2 min)"
timeout 600 debootstrap --variant=minbase --include="$LIBRARIES" "$SUITE" "$ROOTFS" "$MIRROR" \
    >"$ROOTFS.log" 2>&1 || {
    tail -n 30 "$ROOTFS.log" >&2
    exit 1
}
# The public image's LANG is en_US.UTF-8: generate that locale, then drop what the image never uses.
chroot "$ROOTFS" localedef -i en_US -f UTF-8 en_US.UTF-8
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* \
    "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/locale/* \
    "$ROOTFS"/usr/share/i18n/charmaps/* "$ROOTFS"/usr/share/i18n/locales/*

echo "copy Python $version from $prefix to /var/lang"
mkdir -p "$ROOTFS/var/lang/bin" "$ROOTFS/var/lang/lib" "$ROOTFS/var/task" "$ROOTFS/opt"
cp -a "$prefix"/lib/libpython3* "$ROOTFS/var/lang/lib/"
cp -a "$prefix/bin/python3.12" "$ROOTFS/var/lang/bin/"
ln -s python3.12 "$ROOTFS/var/lang/bin/python3"
ln -s python3.12 "$ROOTFS/var/lang/bin/python"
tar -C "$prefix/lib" --exclude='python3.12/site-packages/*' --exclude='python3.12/test' \
    --exclude='python3.12/idlelib' --exclude='python3.12/tkinter' --exclude='python3.12/turtledemo' \
    --exclude='python3.12/ensurepip' --exclude='python3.12/lib-dynload/_tkinter*' \
    --exclude='python3.12/config-3.12-*' -c python3.12 | tar -C "$ROOTFS/var/lang/lib" -x

echo "runtime: awslambdaric $ric_version, bootstrap, entrypoint, RIE"
cp -a "$RIC_DIR"/. "$ROOTFS/var/runtime/"
rm -f "$ROOTFS/var/runtime/.installed"
install -m 0755 "$HERE/rootfs/var/runtime/bootstrap" "$ROOTFS/var/runtime/bootstrap"
install -m 0755 "$HERE/rootfs/lambda-entrypoint.sh" "$ROOTFS/lambda-entrypoint.sh"
install -m 0755 "$RIE" "$ROOTFS/usr/local/bin/aws-lambda-rie"

# The copied interpreter must run inside the root filesystem, with the public image's environment.
chroot "$ROOTFS" env -i LD_LIBRARY_PATH=/var/lang/lib LANG=en_US.UTF-8 PYTHONPATH=/var/runtime \
    /var/lang/bin/python3.12 -c '
import sys, ssl, ctypes, sqlite3, lzma, bz2, zlib, uuid, json, decimal, locale
import awslambdaric
assert sys.prefix == "/var/lang", sys.prefix
assert locale.getpreferredencoding() == "UTF-8", locale.getpreferredencoding()
print("python", sys.version.split()[0], "awslambdaric", awslambdaric.__version__)'

# ENV, WORKDIR and ENTRYPOINT as in the public image's Dockerfile.python3.12.
tar -C "$ROOTFS" -c . | podman import --quiet \
    --change 'ENV LANG=en_US.UTF-8' \
    --change 'ENV TZ=:/etc/localtime' \
    --change 'ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin' \
    --change 'ENV LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib' \
    --change 'ENV LAMBDA_TASK_ROOT=/var/task' \
    --change 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
    --change 'WORKDIR /var/task' \
    --change 'ENTRYPOINT ["/lambda-entrypoint.sh"]' \
    --change "LABEL $LABEL=$inputs" \
    - "$IMAGE" >/dev/null
# SAM derives "<image>-rapid-x86_64" (the RIE added) from this image once and then reuses it: drop
# the old one so the next `sam local invoke` derives it from the new stand-in.
if podman image exists "$RAPID_IMAGE"; then
    podman rmi --force "$RAPID_IMAGE" >/dev/null
fi
echo "imported $IMAGE ($(podman image inspect --format '{{.Size}}' "$IMAGE") bytes, inputs $inputs)"
