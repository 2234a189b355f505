#!/usr/bin/env bash
# Run a SAM CLI command (`sam local invoke`, `sam local start-api`, …) against a container engine,
# without a Docker daemon: unless DOCKER_HOST is set, start podman's Docker-compatible API service
# on a private socket for the duration of the command, with sam-local/containers.conf, and stop it
# afterwards. Usage: sam-local/sam.sh local invoke ApiFunction -e events/api/get_prediction.json
#
# With DOCKER_HOST set, or no podman but a Docker engine, the command runs unchanged against that
# engine (docs/sam-local.md). Environment: SAM (default .venv-sam/bin/sam).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SAM="${SAM:-$ROOT/.venv-sam/bin/sam}"
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"

if [[ -n "${DOCKER_HOST:-}" ]] || ! command -v podman >/dev/null; then
    exec "$SAM" "$@"
fi

export CONTAINERS_CONF="${CONTAINERS_CONF:-$ROOT/sam-local/containers.conf}"
# A socket of our own (short path: unix sockets are limited to 108 bytes), removed on exit.
STATE="$(mktemp -d /tmp/nameorigin-sam-local.XXXXXX)"
SOCKET="$STATE/podman.sock"
# In its own session: a Ctrl-C meant for sam must not stop the engine before sam cleaned up.
setsid podman system service --time=0 "unix://$SOCKET" >"$STATE/podman.log" 2>&1 &
SERVICE=$!
stop_service() {
    kill "$SERVICE" 2>/dev/null || true
    wait "$SERVICE" 2>/dev/null || true
    rm -rf "$STATE"
}
trap stop_service EXIT
for _ in $(seq 100); do
    [[ -S "$SOCKET" ]] && break
    kill -0 "$SERVICE" 2>/dev/null || { cat "$STATE/podman.log" >&2; exit 1; }
    sleep 0.1
done
[[ -S "$SOCKET" ]] || { echo "podman system service did not create $SOCKET" >&2; exit 1; }
export DOCKER_HOST="unix://$SOCKET"
# sam in the background so that INT/TERM reach it as TERM (its clean shutdown: it removes its
# containers; a background job would ignore INT), and the engine stops only after sam exited.
"$SAM" "$@" &
SAM_PID=$!
trap 'kill -TERM "$SAM_PID" 2>/dev/null || true' INT TERM
status=0
while true; do
    if wait "$SAM_PID"; then status=0; else status=$?; fi
    kill -0 "$SAM_PID" 2>/dev/null || break
done
exit "$status"
