"""The built Knative image, run by podman as the manifest runs it, answers like the Lambda door.

Marked ``image``: only ``make image-test`` runs these (it builds the image first and passes it in
``IMAGE``; ``MANIFEST`` picks the Knative Service, default the prod overlay). Expected answers come
from the shared resolver in this process, built with the container's environment and the
checkout's model: the same routes the API Gateway function serves. The container is always
removed; the last test sends it SIGTERM with requests in flight.

Longer than ~300 lines on purpose: one container is started for the whole module (a podman run
is slow), so every check of it lives here.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from knative_container import (
    LOOPBACK,
    ContainerSpec,
    container_spec,
    container_state,
    in_container,
    knative_service,
    logs_tail,
    podman,
    podman_run_command,
    process_status,
    same_json,
    synthetic_names,
)
from locks import IMAGE_LOCK, canonical, read_lock
from support import free_port, lambda_context

from nameorigin.config import REPOSITORY_MODEL_DIR, Settings
from nameorigin.core.model_store import ModelStore
from nameorigin.routes.resolver import NameOriginResolver, create_resolver

pytestmark = pytest.mark.image

REPOSITORY = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("IMAGE", "localhost/nameorigin-knative:test")
MANIFEST = Path(os.environ.get("MANIFEST", REPOSITORY / "k8s-knative" / "overlays" / "prod"))
RUN_ID = os.environ.get("IMAGE_TEST_RUN_ID", f"{os.getpid()}-{int(time.time())}")
REPORT = Path(os.environ.get("IMAGE_TEST_REPORT", REPOSITORY / "build/image-test/report.json"))
READY_TIMEOUT_SECONDS = 90.0
REQUEST_TIMEOUT_SECONDS = 60.0

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
BATCH_NAMES = [
    "Jordan", "Nguyen", "Schmidt", "Rossi", "Tanaka", "Kowalski", "Dvořák",
    "Papadopoulos", "O'Brien", "García", "Smith-Jones", "Zhang", "Ivanov", "Kim",
    "Кузнецова", "Παπαδόπουλος", "O\u2019Sullivan",  # romanized in the image: iuliia is there
]  # fmt: skip
TORCH_PROBE = (
    "import importlib.metadata as m, importlib.util as u, json; "
    "print(json.dumps({'spec': u.find_spec('torch') is not None, "
    "'dists': sorted(d.metadata['Name'] for d in m.distributions() "
    "if 'torch' in (d.metadata['Name'] or '').lower())}))"
)


@dataclass
class Container:
    """The running container under test."""

    name: str
    spec: ContainerSpec
    base_url: str
    ready_seconds: float
    report: dict[str, Any]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=REQUEST_TIMEOUT_SECONDS)


@pytest.fixture(scope="module")
def spec() -> ContainerSpec:
    """The manifest's container, as podman options."""
    return container_spec(knative_service(MANIFEST))


@pytest.fixture(scope="module")
def oracle(spec: ContainerSpec) -> NameOriginResolver:
    """The Lambda door's resolver with the container's settings and the checkout's model."""
    settings = Settings.from_environ(
        {**spec.env, "NAMEORIGIN_MODEL_DIR": str(REPOSITORY_MODEL_DIR)}
    )
    models = ModelStore(settings)
    models.load()
    return create_resolver(settings, models)


@pytest.fixture(scope="module")
def container(spec: ContainerSpec) -> Iterator[Container]:
    """The image running with the manifest's settings on a loopback port; removed afterwards."""
    name = f"nameorigin-image-test-{RUN_ID}"
    host_port = free_port()
    started = time.monotonic()
    run = podman(*podman_run_command(spec, IMAGE, name, host_port, RUN_ID)[1:], check=False)
    assert run.returncode == 0, run.stderr or run.stdout
    size = int(podman("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout.strip())
    report: dict[str, Any] = {"image": IMAGE, "image_size_bytes": size}
    try:
        base_url = f"http://{LOOPBACK}:{host_port}"
        ready = wait_until_ready(base_url, name, spec.ready_path, started)
        report["run_to_ready_seconds"] = round(ready, 3)
        yield Container(name, spec, base_url, ready, report)
    finally:
        podman("rm", "--force", "--time", "0", name, check=False)
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def wait_until_ready(base_url: str, name: str, path: str, started: float) -> float:
    """Poll the readiness path; the seconds from ``podman run`` to the first 200."""
    with httpx.Client(base_url=base_url, timeout=2) as client:
        while time.monotonic() < started + READY_TIMEOUT_SECONDS:
            try:
                if client.get(path).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            state = container_state(name)
            assert state in {"running", "created", "configured"}, f"{state}:\n{logs_tail(name)}"
            time.sleep(0.05)
    pytest.fail(f"{path} not 200 after {READY_TIMEOUT_SECONDS:.0f} s:\n{logs_tail(name)}")


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


def expected(oracle: NameOriginResolver, method: str, path: str, body: Any = None) -> Any:
    """(status, JSON body) the Lambda door answers."""
    result = oracle.resolve(api_gateway_event(method, path, body), lambda_context())  # type: ignore[arg-type]
    return int(result["statusCode"]), json.loads(result.get("body") or "null")


def assert_same_answer(
    container: Container, oracle: NameOriginResolver, method: str, path: str, body: Any = None
) -> None:
    with container.client() as client:
        response = client.request(method, path, json=body)
    status, answer = expected(oracle, method, path, body)
    assert response.status_code == status, response.text[:300]
    assert same_json(response.json(), answer), (
        f"{response.text[:300]} != {json.dumps(answer)[:300]}"
    )


def test_ready_and_live(container: Container) -> None:
    with container.client() as client:
        assert client.get(container.spec.live_path).status_code == 200
    print(f"ready {container.ready_seconds:.2f} s after podman run")


def test_the_baked_model_is_the_checkouts(container: Container) -> None:
    script = (
        "import json; from nameorigin.config import Settings, BUNDLED_MODEL_DIR as b; "
        "s = Settings.from_environ(); "
        "print(json.dumps([str(s.model_dir), str(b), "
        "json.loads((s.model_dir / 'manifest.json').read_text())['model_sha256']]))"
    )
    model_dir, bundled, sha = json.loads(in_container(container.name, "python3", "-c", script))
    local = json.loads((REPOSITORY_MODEL_DIR / "manifest.json").read_text(encoding="utf-8"))
    assert model_dir == bundled
    assert sha == local["model_sha256"], "the image's model is not artifacts/: rebuild the image"
    container.report["model_version"] = local["model_version"]


def test_the_server_runs_as_the_manifests_unprivileged_user(container: Container) -> None:
    name, spec = container.name, container.spec
    command = in_container(name, "cat", "/proc/1/cmdline").replace("\0", " ").strip()
    assert "nameorigin.server" in command, f"PID 1 is `{command}`"
    status = process_status(name)
    uids = set(status["Uid"].split())
    assert "0" not in uids
    if spec.user is not None:
        assert uids == {str(spec.user)}
    if "--cap-drop" in spec.podman_options:
        assert int(status["CapEff"], 16) == 0
    if "no-new-privileges" in spec.podman_options:
        assert status.get("NoNewPrivs") == "1"
    if "--read-only" in spec.podman_options:
        assert podman("exec", name, "touch", "/opt/venv/written", check=False).returncode != 0
    container.report["process"] = {"uid": status["Uid"].split()[0], "command": command}


def test_torch_is_absent(container: Container) -> None:
    found = json.loads(in_container(container.name, "python3", "-c", TORCH_PROBE))
    assert not found["spec"] and not found["dists"], found
    listing = in_container(
        container.name,
        "sh",
        "-c",
        "find / -xdev \\( -name torch -o -name 'torch-*.dist-info' \\) -print 2>/dev/null; true",
    )
    assert not listing.strip(), listing


DISTRIBUTIONS_PROBE = (
    "import importlib.metadata as m, json; "
    "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
)


def test_the_image_holds_exactly_the_locked_distributions(container: Container) -> None:
    """What the image's SBOM (make sbom, from the same lock) lists is what the image holds."""
    found = json.loads(in_container(container.name, "python3", "-c", DISTRIBUTIONS_PROBE))
    installed = {canonical(name): version for name, version in found.items()}
    locked = {name: version for name, (version, _) in read_lock(IMAGE_LOCK).items()}

    assert installed.pop("nameorigin", None), "the package itself is installed"
    assert installed == locked


def test_check_service(container: Container, oracle: NameOriginResolver) -> None:
    assert_same_answer(container, oracle, "GET", "/check_service")


@pytest.mark.parametrize("case", SINGLE_NAME_CASES, ids=json.dumps)
def test_get_prediction(
    case: dict[str, Any], container: Container, oracle: NameOriginResolver
) -> None:
    assert_same_answer(container, oracle, "POST", "/get_prediction", case)


@pytest.mark.parametrize("names", [BATCH_NAMES, []], ids=["batch", "empty"])
def test_predict(names: list[str], container: Container, oracle: NameOriginResolver) -> None:
    assert_same_answer(container, oracle, "POST", "/predict", {"names": names, "top_k": 3})


@dataclass
class InFlight:
    finished_at: float = 0.0
    status: int = 0
    results: int = 0
    error: str = ""


def test_sigterm_lets_requests_in_flight_finish_then_exits_0(
    container: Container, oracle: NameOriginResolver
) -> None:
    """Last on purpose: it stops the container."""
    spec = container.spec
    batch = synthetic_names(int(spec.env.get("NAMEORIGIN_MAX_BATCH_NAMES", "10000")))
    body = {"names": batch, "top_k": 3}
    _, answer = expected(oracle, "POST", "/predict", body)
    with container.client() as client:
        began = time.monotonic()
        client.post("/predict", json=body).raise_for_status()
        single = time.monotonic() - began
    # The server runs one model call at a time: four such requests keep it busy for ~4x `single`.
    requests = [InFlight() for _ in range(4)]

    def send(record: InFlight) -> None:
        try:
            with container.client() as client:
                response = client.post("/predict", json=body)
            record.status = response.status_code
            record.results = len(response.json().get("results", []))
            if not same_json(response.json(), answer):
                record.error = "answer differs from the Lambda door's"
        except (httpx.HTTPError, ValueError) as error:
            record.error = f"{type(error).__name__}: {error}"
        record.finished_at = time.monotonic()

    threads = [threading.Thread(target=send, args=(record,)) for record in requests]
    for thread in threads:
        thread.start()
    time.sleep(max(0.2, single / 2))
    signalled = time.monotonic()
    podman("kill", "--signal", "SIGTERM", container.name)
    for thread in threads:
        thread.join(REQUEST_TIMEOUT_SECONDS)
    grace = float(spec.env.get("NAMEORIGIN_SHUTDOWN_TIMEOUT_SECONDS", "30"))
    waited = podman("wait", container.name, check=False, timeout=grace + 15)
    exited = time.monotonic()

    assert [(r.status, r.error) for r in requests if r.status != 200 or r.error] == []
    assert all(record.results == len(batch) for record in requests)
    after = [record for record in requests if record.finished_at > signalled]
    assert after, "every request ended before SIGTERM: nothing was in flight"
    assert waited.stdout.strip() == "0", logs_tail(container.name)
    container.report["shutdown"] = {
        "batch_names": len(batch),
        "single_batch_seconds": round(single, 3),
        "requests_completed_after_sigterm": len(after),
        "sigterm_to_exit_seconds": round(exited - signalled, 3),
    }
