#!/usr/bin/env bash
# Build the Knative container image from k8s-knative/Dockerfile (unchanged) and run it the way the
# Knative manifest does, checking its answers against the Lambda handler's (`make image-test`).
#
# Steps: install podman/runc/debootstrap if missing (apt, non-interactive; CI runs as root on a
# fresh machine) → stand-in `python:3.11-slim` base image (cached in podman's storage) → wheels
# downloaded on the host with the host's pip configuration (the build itself never needs a package
# index) → podman build → the `image` pytest tests (tests/k8s_knative/test_image.py). See
# docs/container.md.
#
# Environment: IMAGE (tag to build, default localhost/nameorigin-knative:test), MANIFEST (Knative
# Service YAML or kustomization directory, default k8s-knative/overlays/prod: what production
# runs), PYTHON (default .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."

HERE=k8s-knative/image-test
IMAGE="${IMAGE:-localhost/nameorigin-knative:test}"
MANIFEST="${MANIFEST:-k8s-knative/overlays/prod}"
PYTHON="${PYTHON:-.venv/bin/python}"
WHEELHOUSE=build/wheelhouse
REPORT=build/image-test/report.json
BUILD_LOG=build/image-test/build.log
# crun cannot set RLIMIT_NOFILE in this sandbox: use runc (see the file).
export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/$HERE/containers.conf}"

RUN_ID="$$-$(date +%s)"
STEP="start"
STARTED=$SECONDS
STEP_STARTED=$SECONDS
step() {
    if [[ "$STEP" != "start" ]]; then
        echo "== ${STEP}: $((SECONDS - STEP_STARTED)) s"
    fi
    STEP="$1"
    STEP_STARTED=$SECONDS
    echo "== image test: $STEP"
}
on_exit() {
    local status=$?
    # This run's containers carry the label the image tests set; remove those and only those.
    if command -v podman >/dev/null; then
        podman ps --all --quiet --filter "label=nameorigin-image-test=$RUN_ID" |
            xargs --no-run-if-empty podman rm --force --time 0 >/dev/null 2>&1 || true
    fi
    if ((status != 0)); then
        echo "image test FAILED at step '$STEP' (exit $status)" >&2
    fi
}
trap on_exit EXIT

step "install podman, runc and debootstrap"
missing=()
for tool in podman runc debootstrap; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
    if ((EUID != 0)); then
        echo "missing ${missing[*]}: install them (apt-get install podman runc debootstrap)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends podman runc debootstrap >/dev/null
fi

step "prepare the stand-in base image"
bash "$HERE/base-image.sh"

step "download wheels on the host"
# The host's pip configuration (indexes, certificates, proxies) applies here, not in the build.
rm -rf "$WHEELHOUSE"
"$PYTHON" -m pip download -qq --only-binary=:all: --dest "$WHEELHOUSE" --require-hashes --no-deps \
    --requirement k8s-knative/requirements.txt
"$PYTHON" -m pip download -qq --only-binary=:all: --dest "$WHEELHOUSE" 'setuptools>=69'
echo "$(find "$WHEELHOUSE" -name '*.whl' | wc -l) wheels, $(du -sh "$WHEELHOUSE" | cut -f1)"

step "build the image"
mkdir -p "$(dirname "$REPORT")"
# --network none: with the wheelhouse the build needs no network at all.
if ! timeout 600 podman build --network none --build-arg "WHEELHOUSE=$WHEELHOUSE" \
    --file k8s-knative/Dockerfile --tag "$IMAGE" . >"$BUILD_LOG" 2>&1; then
    tail -n 40 "$BUILD_LOG" >&2
    exit 1
fi
echo "built $IMAGE (log: $BUILD_LOG)"

step "run the container and check it"
IMAGE="$IMAGE" MANIFEST="$MANIFEST" IMAGE_TEST_RUN_ID="$RUN_ID" IMAGE_TEST_REPORT="$REPORT" \
    "$PYTHON" -m pytest -m image -p no:xdist -p no:cacheprovider tests/k8s_knative/test_image.py

step "done"
echo "image test took $((SECONDS - STARTED)) s (report: $REPORT)"
