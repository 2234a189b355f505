"""The Knative container as a local podman run: the manifest → podman translation, podman
helpers, and the JSON comparison the image tests use (tests/k8s_knative/test_image.py).

The container gets the manifest's environment and securityContext (user, read-only root filesystem,
dropped capabilities, no privilege escalation), its resource limits and the variables Knative itself
injects (``PORT``, ``K_SERVICE``…), and listens on 127.0.0.1 only. Anything in the manifest this
cannot reproduce raises ``ManifestError``, never silently skipped.

Longer than ~300 lines on purpose: it reproduces every securityContext, resource, volume and env
rule of the manifest, each failing loudly, and they belong together.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: The label every container of an image test run carries, so the wrapper can clean up by it.
RUN_LABEL = "nameorigin-image-test"
#: Where the server must never be reachable from: only loopback is published.
LOOPBACK = "127.0.0.1"


class ManifestError(ValueError):
    """The manifest asks for something a local podman run cannot reproduce faithfully."""


class PodmanError(RuntimeError):
    """A podman command failed."""


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
        raise ManifestError(f"kubectl kustomize failed: {rendered.stderr}")
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
    raise ManifestError(f"no serving.knative.dev/v1 Service in {manifest}")


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
        raise ManifestError(f"cannot reproduce securityContext {sorted(unknown)}")
    if context.get("privileged"):
        raise ManifestError("refusing to run a privileged container")
    options: list[str] = []
    user = context.get("runAsUser")
    if user is not None:
        group = context.get("runAsGroup")
        options += ["--user", f"{user}:{group}" if group is not None else str(user)]
    if context.get("runAsNonRoot") and user in (None, 0):
        raise ManifestError("runAsNonRoot needs a numeric non-zero runAsUser")
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
        raise ManifestError(f"cannot reproduce seccompProfile {seccomp}")
    return options, None if user is None else int(user)


def _probe_path(container: Mapping[str, Any], probe: str) -> str:
    http_get = container.get(probe, {}).get("httpGet")
    if not http_get or "path" not in http_get:
        raise ManifestError(f"the container has no {probe}.httpGet.path")
    return str(http_get["path"])


def container_spec(service: Mapping[str, Any]) -> ContainerSpec:
    """Translate the Service's single container into podman options, failing on anything unknown."""
    name = str(service["metadata"]["name"])
    pod = service["spec"]["template"]["spec"]
    containers = pod["containers"]
    if len(containers) != 1:
        raise ManifestError(f"expected one container, found {len(containers)}")
    container = containers[0]
    unknown = set(container) - _CONTAINER_KEYS
    if unknown:
        raise ManifestError(f"cannot reproduce container keys {sorted(unknown)}")

    ports = container.get("ports", [])
    port = int(ports[0]["containerPort"]) if ports else 8080
    env: dict[str, str] = {}
    for variable in container.get("env", []):
        if "value" not in variable:
            raise ManifestError(f"cannot reproduce env {variable['name']}")
        env[str(variable["name"])] = str(variable["value"])
    if "PORT" in env:
        raise ManifestError("PORT is Knative's to set, not the manifest's")
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
            raise ManifestError(f"cannot reproduce volume {mount['name']}")
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


def podman(
    *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run podman, capturing output; a failure names the podman command."""
    result = subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise PodmanError(f"podman {' '.join(args)}: {result.stderr.strip()}")
    return result


def container_state(name: str) -> str:
    """What podman says the container is doing ("running", "exited"…), or "gone"."""
    result = podman("inspect", "--format", "{{.State.Status}}", name, check=False)
    return result.stdout.strip() or "gone"


def logs_tail(name: str, lines: int = 40) -> str:
    """The container's last log lines (for failure messages)."""
    result = podman("logs", "--tail", str(lines), name, check=False)
    return (result.stdout + result.stderr).strip()


def in_container(name: str, *command: str) -> str:
    """Run a command in the container; its stdout."""
    result = podman("exec", name, *command, check=False)
    if result.returncode != 0:
        raise PodmanError(f"`{' '.join(command)}` failed in {name}: {result.stderr.strip()}")
    return result.stdout


def process_status(name: str) -> dict[str, str]:
    """``/proc/1/status`` of the container's main process, as a dict."""
    text = in_container(name, "cat", "/proc/1/status")
    return {
        key.strip(): value.strip()
        for key, _, value in (line.partition(":") for line in text.splitlines())
    }


def synthetic_names(count: int, seed: int = 6) -> list[str]:
    """Deterministic name-like strings for a large batch."""
    generator = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [
        "".join(generator.choice(letters) for _ in range(generator.randint(3, 12))).title()
        for _ in range(count)
    ]
