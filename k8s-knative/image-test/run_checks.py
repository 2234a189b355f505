"""Run the built image the way the Knative manifest runs it, and check it answers like the handler.

Usage (from the repository root, with the development environment's interpreter)::

    .venv/bin/python k8s-knative/image-test/run_checks.py --image IMAGE \
        [--manifest k8s-knative/overlays/prod] [--report build/image-test/report.json]

The container gets the manifest's environment and securityContext (user, read-only root
filesystem, dropped capabilities, no privilege escalation), its resource limits and the variables
Knative itself injects (``PORT``, ``K_SERVICE``…), and listens on 127.0.0.1 only. Expected answers
come from the API Gateway Lambda handler, called in this process with the same environment and
model. Every check that fails raises ``StepFailedError`` naming its step; the container is always
removed. Anything in the manifest this script cannot reproduce is an error, never silently skipped.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

REPOSITORY = Path(__file__).resolve().parents[2]
#: What production runs: the prod overlay, rendered (a YAML file works too).
DEFAULT_MANIFEST = REPOSITORY / "k8s-knative" / "overlays" / "prod"
#: The label every container of this script carries, so the shell wrapper can clean up by it.
RUN_LABEL = "nameorigin-image-test"
READY_TIMEOUT_SECONDS = 90.0
REQUEST_TIMEOUT_SECONDS = 60.0
#: Where the server must never be reachable from: only loopback is published.
LOOPBACK = "127.0.0.1"

# Names the old and new routes are checked with: plain, accented, punctuated, and rejected ones.
SINGLE_NAME_CASES: tuple[dict[str, Any], ...] = (
    {"name": "Jordan", "n_predictions": 2},
    {"name": "Nguyen", "n_predictions": 3},
    {"name": "Müller", "n_predictions": 1},
    {"name": "O'Neill", "n_predictions": 18},
    {"name": "Jordan"},
    {"name": "", "n_predictions": 2},
    {"name": "Jordan", "n_predictions": 0},
)
BATCH_NAMES = (
    "Jordan",
    "Nguyen",
    "Schmidt",
    "Rossi",
    "Tanaka",
    "Kowalski",
    "Dvořák",
    "Papadopoulos",
    "O'Brien",
    "García",
    "Smith-Jones",
    "Zhang",
    "Ivanov",
    "Kim",
)


class StepFailedError(Exception):
    """A check failed; ``step`` says which one, for the wrapper's closing message."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step
        self.message = message


# -- what the manifest says -------------------------------------------------------------------


@dataclass(frozen=True)
class ContainerSpec:
    """The parts of a Knative Service's container that a local podman run reproduces."""

    service_name: str
    port: int
    env: dict[str, str]
    podman_options: list[str]
    user: int | None
    ready_path: str
    live_path: str
    command: list[str] = field(default_factory=list)
    entrypoint: list[str] | None = None


_CONTAINER_KEYS = {
    "name",
    "image",
    "imagePullPolicy",
    "ports",
    "env",
    "resources",
    "readinessProbe",
    "livenessProbe",
    "startupProbe",
    "securityContext",
    "command",
    "args",
    "volumeMounts",
}
_SECURITY_KEYS = {
    "runAsNonRoot",
    "runAsUser",
    "runAsGroup",
    "readOnlyRootFilesystem",
    "allowPrivilegeEscalation",
    "capabilities",
    "seccompProfile",
    "privileged",
}


def manifest_documents(manifest: Path) -> list[Any]:
    """A YAML file's documents, or a kustomization directory rendered by ``kubectl kustomize``."""
    if not manifest.is_dir():
        return list(yaml.safe_load_all(manifest.read_text(encoding="utf-8")))
    beside_python = Path(sys.executable).parent / "kubectl"
    kubectl = str(beside_python) if beside_python.is_file() else "kubectl"
    rendered = subprocess.run(
        [kubectl, "kustomize", str(manifest)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if rendered.returncode != 0:
        raise StepFailedError("read the manifest", f"kubectl kustomize failed: {rendered.stderr}")
    return list(yaml.safe_load_all(rendered.stdout))


def knative_service(manifest: Path) -> dict[str, Any]:
    """The ``serving.knative.dev/v1`` Service among the manifest's documents."""
    for document in manifest_documents(manifest):
        if (
            isinstance(document, dict)
            and document.get("apiVersion") == "serving.knative.dev/v1"
            and document.get("kind") == "Service"
        ):
            return document
    raise StepFailedError("read the manifest", f"no serving.knative.dev/v1 Service in {manifest}")


def cpu_limit(quantity: str | int | float) -> str:
    """A Kubernetes CPU quantity ("1", "500m") as podman's ``--cpus`` value."""
    text = str(quantity)
    cores = int(text[:-1]) / 1000 if text.endswith("m") else float(text)
    return f"{cores:g}"


_MEMORY_UNITS = {
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "k": 1000,
    "M": 1000**2,
    "G": 1000**3,
}


def memory_limit(quantity: str | int) -> str:
    """A Kubernetes memory quantity ("512Mi", "1G", "1048576") as podman's ``--memory`` value."""
    text = str(quantity)
    for suffix, factor in _MEMORY_UNITS.items():
        if text.endswith(suffix):
            return f"{int(float(text[: -len(suffix)]) * factor)}b"
    return f"{int(text)}b"


def _security_options(context: Mapping[str, Any]) -> tuple[list[str], int | None]:
    unknown = set(context) - _SECURITY_KEYS
    if unknown:
        raise StepFailedError(
            "read the manifest", f"cannot reproduce securityContext {sorted(unknown)}"
        )
    if context.get("privileged"):
        raise StepFailedError("read the manifest", "refusing to run a privileged container")
    options: list[str] = []
    user = context.get("runAsUser")
    if user is not None:
        group = context.get("runAsGroup")
        options += ["--user", f"{user}:{group}" if group is not None else str(user)]
    if context.get("runAsNonRoot") and user in (None, 0):
        raise StepFailedError(
            "read the manifest", "runAsNonRoot needs a numeric non-zero runAsUser"
        )
    if context.get("readOnlyRootFilesystem"):
        # Kubernetes adds no writable /tmp: podman's default tmpfs mounts are turned off too.
        options += ["--read-only", "--read-only-tmpfs=false"]
    if context.get("allowPrivilegeEscalation") is False:
        options += ["--security-opt", "no-new-privileges"]
    capabilities = context.get("capabilities", {})
    for capability in capabilities.get("drop", []):
        options += ["--cap-drop", str(capability)]
    for capability in capabilities.get("add", []):
        options += ["--cap-add", str(capability)]
    seccomp = context.get("seccompProfile", {}).get("type", "RuntimeDefault")
    if seccomp == "Unconfined":
        options += ["--security-opt", "seccomp=unconfined"]
    elif seccomp != "RuntimeDefault":  # podman's default profile is the runtime default
        raise StepFailedError("read the manifest", f"cannot reproduce seccompProfile {seccomp}")
    return options, None if user is None else int(user)


def _probe_path(container: Mapping[str, Any], probe: str) -> str:
    http_get = container.get(probe, {}).get("httpGet")
    if not http_get or "path" not in http_get:
        raise StepFailedError("read the manifest", f"the container has no {probe}.httpGet.path")
    return str(http_get["path"])


def container_spec(service: Mapping[str, Any]) -> ContainerSpec:
    """Translate the Service's single container into podman options, failing on anything unknown."""
    name = str(service["metadata"]["name"])
    pod = service["spec"]["template"]["spec"]
    containers = pod["containers"]
    if len(containers) != 1:
        raise StepFailedError(
            "read the manifest", f"expected one container, found {len(containers)}"
        )
    container = containers[0]
    unknown = set(container) - _CONTAINER_KEYS
    if unknown:
        raise StepFailedError(
            "read the manifest", f"cannot reproduce container keys {sorted(unknown)}"
        )

    ports = container.get("ports", [])
    port = int(ports[0]["containerPort"]) if ports else 8080
    env: dict[str, str] = {}
    for variable in container.get("env", []):
        if "value" not in variable:
            raise StepFailedError("read the manifest", f"cannot reproduce env {variable['name']}")
        env[str(variable["name"])] = str(variable["value"])
    if "PORT" in env:
        raise StepFailedError("read the manifest", "PORT is Knative's to set, not the manifest's")
    # What Knative Serving injects into every revision's container.
    env |= {
        "PORT": str(port),
        "K_SERVICE": name,
        "K_CONFIGURATION": name,
        "K_REVISION": f"{name}-00001",
    }

    security = {**pod.get("securityContext", {}), **container.get("securityContext", {})}
    security.pop("fsGroup", None)  # no volumes written here: nothing for fsGroup to own
    options, user = _security_options(security)
    limits = container.get("resources", {}).get("limits", {})
    if "cpu" in limits:
        options += ["--cpus", cpu_limit(limits["cpu"])]
    if "memory" in limits:
        options += ["--memory", memory_limit(limits["memory"])]
    volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        volume = volumes.get(mount["name"], {})
        if "emptyDir" not in volume:
            raise StepFailedError("read the manifest", f"cannot reproduce volume {mount['name']}")
        options += ["--tmpfs", str(mount["mountPath"])]

    command = [str(part) for part in container.get("args", [])]
    entrypoint = [str(part) for part in container["command"]] if "command" in container else None
    return ContainerSpec(
        service_name=name,
        port=port,
        env=env,
        podman_options=options,
        user=user,
        ready_path=_probe_path(container, "readinessProbe"),
        live_path=_probe_path(container, "livenessProbe"),
        command=command,
        entrypoint=entrypoint,
    )


def podman_run_command(
    spec: ContainerSpec, image: str, name: str, host_port: int, run_id: str
) -> list[str]:
    """The ``podman run`` argv: detached, labelled, published on loopback only."""
    argv = [
        "podman",
        "run",
        "--detach",
        "--name",
        name,
        "--label",
        f"{RUN_LABEL}={run_id}",
        "--publish",
        f"{LOOPBACK}:{host_port}:{spec.port}",
        *spec.podman_options,
    ]
    for key, value in sorted(spec.env.items()):
        argv += ["--env", f"{key}={value}"]
    if spec.entrypoint is not None:
        argv += ["--entrypoint", json.dumps(spec.entrypoint)]
    return [*argv, image, *spec.command]


# -- expected answers: the Lambda handler, in this process ------------------------------------


@dataclass(frozen=True)
class Expected:
    status: int
    body: Any


@dataclass
class _LambdaContext:
    function_name: str = "nameorigin-image-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:nameorigin-image-test"
    )
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def api_gateway_event(method: str, path: str, body: Any | None = None) -> dict[str, Any]:
    """A REST API (v1) proxy event, as API Gateway sends the function."""
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", "Host": "localhost"},
        "multiValueHeaders": {"Content-Type": ["application/json"], "Host": ["localhost"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/Prod{path}",
            "stage": "Prod",
            "requestId": "image-test",
            "identity": {"sourceIp": LOOPBACK},
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


class HandlerOracle:
    """Answers requests with ``nameorigin.api.handler.lambda_handler`` and the same environment."""

    def __init__(self, env: Mapping[str, str], model_dir: Path) -> None:
        # The handler reads its settings at import: set the container's environment first.
        os.environ.update(env)
        os.environ["NAMEORIGIN_MODEL_DIR"] = str(model_dir)
        # What the SAM template gives the function; metric names never change an answer.
        os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "nameorigin-image-test")
        # Powertools logs and EMF metrics go to stdout: keep them out of this script's report.
        self._sink = io.StringIO()
        with redirect_stdout(self._sink):
            from nameorigin.api.handler import lambda_handler  # noqa: PLC0415 - after the env

        self._handler = lambda_handler

    def answer(self, method: str, path: str, body: Any | None = None) -> Expected:
        try:
            with redirect_stdout(self._sink):
                result = self._handler(api_gateway_event(method, path, body), _LambdaContext())
        except Exception as error:  # the oracle itself broke: say so, not "the image differs"
            raise StepFailedError(
                "compute the expected answers",
                f"lambda_handler raised {error!r}; its output:\n{self._sink.getvalue()[-2000:]}",
            ) from error
        text = result.get("body") or "null"
        return Expected(status=int(result["statusCode"]), body=json.loads(text))


def same_json(actual: Any, expected: Any, tolerance: float = 1e-6) -> bool:
    """Equal JSON values, floats within ``tolerance`` (one onnxruntime build, one CPU: ~exact)."""
    if isinstance(expected, float) and isinstance(actual, int | float):
        return math.isclose(actual, expected, rel_tol=tolerance, abs_tol=tolerance)
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(
            same_json(actual[key], value, tolerance) for key, value in expected.items()
        )
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(
            same_json(a, e, tolerance) for a, e in zip(actual, expected, strict=True)
        )
    return bool(actual == expected) and type(actual) is type(expected)


def check_same_answer(
    client: httpx.Client, oracle: HandlerOracle, step: str, method: str, path: str, body: Any = None
) -> Any:
    """Send one request to the container and compare status and JSON body with the handler's."""
    response = client.request(method, path, json=body)
    expected = oracle.answer(method, path, body)
    try:
        actual = response.json()
    except ValueError as error:
        raise StepFailedError(
            step, f"{method} {path} answered non-JSON: {response.text[:200]}"
        ) from error
    if response.status_code != expected.status or not same_json(actual, expected.body):
        raise StepFailedError(
            step,
            f"{method} {path} {json.dumps(body)[:200]} answered {response.status_code} "
            f"{json.dumps(actual)[:300]}, the handler {expected.status} "
            f"{json.dumps(expected.body)[:300]}",
        )
    return actual


# -- running the container --------------------------------------------------------------------


def podman(
    *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run podman, capturing output; a failure names the podman command."""
    result = subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise StepFailedError(f"podman {args[0]}", f"{' '.join(args)}: {result.stderr.strip()}")
    return result


@contextmanager
def failing_as(name: str) -> Iterator[None]:
    """Report any unexpected error inside the block (timeout, refused connection…) as ``name``."""
    try:
        yield
    except StepFailedError:
        raise
    except Exception as error:
        raise StepFailedError(name, f"{type(error).__name__}: {error}") from error


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_container(argv: Sequence[str], name: str) -> Iterator[float]:
    """Start the container; yield the monotonic time ``podman run`` began; always remove it."""
    started = time.monotonic()
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    try:
        if result.returncode != 0:
            raise StepFailedError("start the container", result.stderr.strip() or result.stdout)
        yield started
    finally:
        podman("rm", "--force", "--time", "0", name, check=False)


def container_state(name: str) -> str:
    result = podman("inspect", "--format", "{{.State.Status}}", name, check=False)
    return result.stdout.strip() or "gone"


def logs_tail(name: str, lines: int = 40) -> str:
    result = podman("logs", "--tail", str(lines), name, check=False)
    return (result.stdout + result.stderr).strip()


def wait_until_ready(client: httpx.Client, name: str, path: str, started: float) -> float:
    """Poll the readiness path; the seconds from ``podman run`` to the first 200."""
    deadline = started + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            if client.get(path, timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        state = container_state(name)
        if state not in {"running", "created", "configured"}:
            raise StepFailedError("wait for readiness", f"container is {state}:\n{logs_tail(name)}")
        time.sleep(0.05)
    raise StepFailedError(
        "wait for readiness",
        f"{path} not 200 after {READY_TIMEOUT_SECONDS:.0f}s:\n{logs_tail(name)}",
    )


def in_container(name: str, step: str, *command: str) -> str:
    result = podman("exec", name, *command, check=False)
    if result.returncode != 0:
        raise StepFailedError(step, f"`{' '.join(command)}` failed: {result.stderr.strip()}")
    return result.stdout


def process_status(name: str) -> dict[str, str]:
    """``/proc/1/status`` of the container's main process, as a dict."""
    text = in_container(name, "check the process user", "cat", "/proc/1/status")
    return {
        key.strip(): value.strip()
        for key, _, value in (line.partition(":") for line in text.splitlines())
    }


def check_process_security(name: str, spec: ContainerSpec) -> dict[str, str]:
    """PID 1 is the server, runs as the manifest's non-root user, has no capabilities."""
    step = "check the process user"
    command = in_container(name, step, "cat", "/proc/1/cmdline").replace("\0", " ").strip()
    if "nameorigin.http" not in command:
        raise StepFailedError(step, f"PID 1 is `{command}`, not the nameorigin.http server")
    status = process_status(name)
    uids = set(status["Uid"].split())
    if "0" in uids:
        raise StepFailedError(step, f"the server runs as root (Uid {status['Uid']})")
    if spec.user is not None and uids != {str(spec.user)}:
        raise StepFailedError(step, f"Uid {status['Uid']}, the manifest says {spec.user}")
    if "--cap-drop" in spec.podman_options and int(status["CapEff"], 16) != 0:
        raise StepFailedError(step, f"effective capabilities {status['CapEff']}, expected none")
    if "no-new-privileges" in spec.podman_options and status.get("NoNewPrivs") != "1":
        raise StepFailedError(step, "no_new_privs is not set")
    if "--read-only" in spec.podman_options:
        probe = podman("exec", name, "touch", "/opt/venv/written", check=False)
        if probe.returncode == 0:
            raise StepFailedError(step, "the root filesystem is writable")
    return {"uid": status["Uid"].split()[0], "cap_eff": status["CapEff"], "command": command}


TORCH_PROBE = (
    "import importlib.metadata as m, importlib.util as u, json; "
    "print(json.dumps({'spec': u.find_spec('torch') is not None, "
    "'dists': sorted(d.metadata['Name'] for d in m.distributions() "
    "if 'torch' in (d.metadata['Name'] or '').lower())}))"
)


def check_no_torch(name: str) -> None:
    step = "check torch is absent"
    found = json.loads(in_container(name, step, "python3", "-c", TORCH_PROBE))
    if found["spec"] or found["dists"]:
        raise StepFailedError(step, f"torch is in the image: {found}")
    # A torch package or its distribution metadata anywhere on the root filesystem.
    listing = in_container(
        name,
        step,
        "sh",
        "-c",
        "find / -xdev \\( -name torch -o -name 'torch-*.dist-info' \\) -print 2>/dev/null; true",
    )
    if listing.strip():
        raise StepFailedError(step, f"torch is in the image: {listing.split()}")


def check_baked_model(name: str) -> str:
    """The image's model is the checkout's (else the handler comparison means nothing)."""
    step = "check the baked model"
    script = (
        "import json; from nameorigin.config import Settings, BUNDLED_MODEL_DIR as b; "
        "s = Settings.from_environ(); "
        "print(json.dumps([str(s.model_dir), str(b), "
        "json.loads((s.model_dir / 'manifest.json').read_text())['model_sha256']]))"
    )
    model_dir, bundled, sha = json.loads(in_container(name, step, "python3", "-c", script))
    if model_dir != bundled:
        raise StepFailedError(step, f"the service reads {model_dir}, not the baked {bundled}")
    local = json.loads((REPOSITORY / "artifacts" / "manifest.json").read_text(encoding="utf-8"))
    if sha != local["model_sha256"]:
        raise StepFailedError(
            step, "the image's model is not artifacts/model.onnx: rebuild the image"
        )
    return str(local["model_version"])


def synthetic_names(count: int, seed: int = 6) -> list[str]:
    """Deterministic name-like strings for a large batch."""
    generator = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [
        "".join(generator.choice(letters) for _ in range(generator.randint(3, 12))).title()
        for _ in range(count)
    ]


@dataclass
class _InFlight:
    finished_at: float = 0.0
    status: int = 0
    results: int = 0
    error: str = ""


def check_graceful_shutdown(
    base_url: str, name: str, spec: ContainerSpec, batch: list[str], expected: Any
) -> dict[str, float]:
    """SIGTERM while batch requests are in flight: they complete and the process exits cleanly."""
    step = "SIGTERM with requests in flight"
    body = {"names": batch, "top_k": 3}
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        began = time.monotonic()
        client.post("/predict", json=body).raise_for_status()
        single = time.monotonic() - began

    # The server runs one model call at a time: four such requests keep it busy for ~4x `single`.
    requests = [_InFlight() for _ in range(4)]

    def send(record: _InFlight) -> None:
        try:
            with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
                response = client.post("/predict", json=body)
            record.status = response.status_code
            answer = response.json()
            record.results = len(answer.get("results", []))
            if answer != expected and not same_json(answer, expected):
                record.error = "answer differs from the handler's"
        except (httpx.HTTPError, ValueError) as error:
            record.error = f"{type(error).__name__}: {error}"
        record.finished_at = time.monotonic()

    threads = [threading.Thread(target=send, args=(record,)) for record in requests]
    for thread in threads:
        thread.start()
    time.sleep(max(0.2, single / 2))
    signalled = time.monotonic()
    podman("kill", "--signal", "SIGTERM", name)
    for thread in threads:
        thread.join(REQUEST_TIMEOUT_SECONDS)
    grace = float(spec.env.get("NAMEORIGIN_SHUTDOWN_TIMEOUT_SECONDS", "30"))
    waited = podman("wait", name, check=False, timeout=grace + 15)
    exited = time.monotonic()

    failures = [record for record in requests if record.status != 200 or record.error]
    if failures:
        details = [(record.status, record.error) for record in failures]
        raise StepFailedError(step, f"{len(failures)} in-flight request(s) failed: {details}")
    if any(record.results != len(batch) for record in requests):
        raise StepFailedError(step, "an in-flight request returned a partial answer")
    after = [record for record in requests if record.finished_at > signalled]
    if not after:
        raise StepFailedError(step, "every request ended before SIGTERM: nothing was in flight")
    exit_code = waited.stdout.strip()
    if exit_code != "0":
        raise StepFailedError(
            step, f"exit code {exit_code or '?'} after SIGTERM:\n{logs_tail(name)}"
        )
    return {
        "batch_names": len(batch),
        "single_batch_seconds": round(single, 3),
        "requests_completed_after_sigterm": len(after),
        "sigterm_to_exit_seconds": round(exited - signalled, 3),
    }


def image_size(image: str) -> int:
    return int(podman("image", "inspect", "--format", "{{.Size}}", image).stdout.strip())


def run_checks(image: str, manifest: Path, run_id: str) -> dict[str, Any]:
    """Every check, in order; returns the measurements for the report."""
    with failing_as("read the manifest"):
        spec = container_spec(knative_service(manifest))
    name = f"nameorigin-image-test-{run_id}"
    host_port = free_loopback_port()
    base_url = f"http://{LOOPBACK}:{host_port}"
    report: dict[str, Any] = {"image": image, "image_size_bytes": image_size(image)}
    with failing_as("compute the expected answers"):
        oracle = HandlerOracle(spec.env, REPOSITORY / "artifacts")

    checks: list[str] = []
    report["checks_passed"] = checks
    with (
        running_container(podman_run_command(spec, image, name, host_port, run_id), name) as t0,
        httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS) as client,
    ):
        with failing_as("wait for readiness"):
            ready = wait_until_ready(client, name, spec.ready_path, t0)
        report["run_to_ready_seconds"] = round(ready, 3)
        checks.append(f"ready {ready:.2f} s after podman run")
        with failing_as("check liveness"):
            live = client.get(spec.live_path)
        if live.status_code != 200:
            raise StepFailedError("check liveness", f"{spec.live_path} answered {live.status_code}")
        checks.append("liveness")

        report["model_version"] = check_baked_model(name)
        checks.append("the baked model is artifacts/")
        report["process"] = check_process_security(name, spec)
        checks.append("non-root user, no capabilities, read-only root")
        check_no_torch(name)
        checks.append("torch is absent")

        with failing_as("check /check_service"):
            check_same_answer(client, oracle, "check /check_service", "GET", "/check_service")
        checks.append("/check_service")
        for case in SINGLE_NAME_CASES:
            with failing_as("check /get_prediction"):
                check_same_answer(
                    client, oracle, "check /get_prediction", "POST", "/get_prediction", case
                )
            checks.append(f"/get_prediction {json.dumps(case, ensure_ascii=False)}")
        for names in (list(BATCH_NAMES), []):
            body = {"names": names, "top_k": 3}
            with failing_as("check batch /predict"):
                check_same_answer(client, oracle, "check batch /predict", "POST", "/predict", body)
            checks.append(f"/predict with {len(names)} names")

        max_names = int(spec.env.get("NAMEORIGIN_MAX_BATCH_NAMES", "10000"))
        big_batch = synthetic_names(max_names)
        expected_big = oracle.answer("POST", "/predict", {"names": big_batch, "top_k": 3}).body
        with failing_as("SIGTERM with requests in flight"):
            shutdown = check_graceful_shutdown(base_url, name, spec, big_batch, expected_big)
        report["shutdown"] = shutdown
        checks.append("SIGTERM with requests in flight: all completed, exit 0")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", required=True)
    parser.add_argument(
        "--manifest",
        type=Path,
        default=DEFAULT_MANIFEST,
        help="Knative Service YAML, or a kustomization directory to render",
    )
    parser.add_argument("--report", type=Path, help="write the measurements here as JSON")
    parser.add_argument(
        "--run-id",
        default=f"{os.getpid()}-{int(time.time())}",
        help=f"value of the {RUN_LABEL} label on this run's containers",
    )
    args = parser.parse_args(argv)
    try:
        report = run_checks(args.image, args.manifest, args.run_id)
    except StepFailedError as failure:
        print(f"image test FAILED at step '{failure.step}': {failure.message}", file=sys.stderr)
        return 1
    text = json.dumps(report, indent=2)
    print(text)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
