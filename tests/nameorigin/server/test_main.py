"""``python -m nameorigin.server`` for real: same answers as the Lambda, probes, readiness, SIGTERM.

Every test here talks HTTP to a uvicorn process on 127.0.0.1 (see conftest.py). The Lambda side of
the equivalence test is the real ``lambda_handler``, called with API Gateway REST proxy events
built here independently of the adapter's own translation, so the two sides share no code but the
resolver they are meant to share.

Longer than ~300 lines on purpose: the equivalence corpus (every kind of request, sent to both
doors) is data, and splitting it would hide which cases the two doors are compared on.
"""

from __future__ import annotations

import importlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import yaml
from support import lambda_context

from nameorigin.core.classifier import Classifier, Prediction

from .conftest import REPOSITORY_ROOT, ServerProcess, StartServer

SERVICE_MANIFEST = REPOSITORY_ROOT / "k8s-knative" / "base" / "service.yaml"
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Case:
    """One request of the corpus."""

    id: str
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, list[str]] = field(default_factory=dict)


def post(case_id: str, path: str, payload: Any, **extra: str) -> Case:
    return Case(case_id, "POST", path, json.dumps(payload).encode(), {**JSON, **extra})


CORPUS = [
    # the old clients' contract
    Case("check-service", "GET", "/check_service"),
    Case("check-service-query", "GET", "/check_service", query={"x": ["1", "2"]}),
    post("legacy-jordan", "/get_prediction", {"name": "Jordan", "n_predictions": 2}),
    post("legacy-default-k", "/get_prediction", {"name": "Nakamura"}),
    post(
        "legacy-accents", "/get_prediction", {"name": "  Müller-Lüdenscheidt ", "n_predictions": 3}
    ),
    post("legacy-all-labels", "/get_prediction", {"name": "O'Neill", "n_predictions": 18}),
    post("legacy-k-zero", "/get_prediction", {"name": "Jordan", "n_predictions": 0}),
    post("legacy-k-too-big", "/get_prediction", {"name": "Jordan", "n_predictions": 19}),
    post("legacy-empty-name", "/get_prediction", {"name": "   "}),
    post("legacy-no-letters", "/get_prediction", {"name": "1234"}),
    post("legacy-too-long", "/get_prediction", {"name": "a" * 65}),
    post("legacy-name-type", "/get_prediction", {"name": 7}),
    post("legacy-missing-name", "/get_prediction", {}),
    post("legacy-extra-field", "/get_prediction", {"name": "Jordan", "nope": 1}),
    post("legacy-array-body", "/get_prediction", ["Jordan"]),
    Case("legacy-bad-json", "POST", "/get_prediction", b'{"name": "Jordan",', JSON),
    Case("legacy-not-utf8", "POST", "/get_prediction", b'{"name": "\xff\xfe"}', JSON),
    Case("legacy-empty-body", "POST", "/get_prediction", b"", JSON),
    Case("legacy-text-plain", "POST", "/get_prediction", b"Jordan", {"Content-Type": "text/plain"}),
    Case("legacy-get", "GET", "/get_prediction"),
    # batch
    post("predict-three", "/predict", {"names": ["Jordan", "Dvořák", "Nguyen"], "top_k": 2}),
    post("predict-default-k", "/predict", {"names": ["Smith"]}),
    post("predict-one-bad", "/predict", {"names": ["Jordan", "", "42"]}),
    post("predict-empty", "/predict", {"names": []}),
    post("predict-not-list", "/predict", {"names": "Jordan"}),
    post("predict-too-many", "/predict", {"names": ["Li"] * 10_001}),
    Case(
        "predict-over-body-limit",
        "POST",
        "/predict",
        json.dumps({"names": ["x" * 60] * 20_000}).encode(),
        JSON,
    ),
    Case("predict-delete", "DELETE", "/predict"),
    # metadata, documentation, health
    Case("model", "GET", "/model"),
    Case("openapi", "GET", "/openapi.json"),
    Case("v2", "GET", "/v2"),
    Case("v2-live", "GET", "/v2/health/live"),
    Case("v2-ready", "GET", "/v2/health/ready"),
    Case("v2-model", "GET", "/v2/models/nameorigin"),
    Case("v2-model-ready", "GET", "/v2/models/nameorigin/ready"),
    Case("v2-unknown-model", "GET", "/v2/models/other"),
    Case("v2-encoded-model-name", "GET", "/v2/models/name origin/ready"),
    Case("v2-ready-query", "GET", "/v2/health/ready", query={"verbose": ["1"]}),
    # Open Inference Protocol v2 inference
    post(
        "v2-infer",
        "/v2/models/nameorigin/infer",
        {
            "id": "r-1",
            "inputs": [
                {"name": "names", "shape": [2], "datatype": "BYTES", "data": ["Ito", "Rossi"]}
            ],
            "parameters": {"top_k": 2},
        },
    ),
    post(
        "v2-infer-nested-outputs",
        "/v2/models/nameorigin/infer",
        {
            "inputs": [
                {"name": "names", "shape": [2, 1], "datatype": "BYTES", "data": [["A"], ["Bo"]]}
            ],
            "outputs": [{"name": "labels"}],
        },
    ),
    post(
        "v2-infer-bad-shape",
        "/v2/models/nameorigin/infer",
        {"inputs": [{"name": "names", "shape": [3], "datatype": "BYTES", "data": ["Ito"]}]},
    ),
    post(
        "v2-infer-bad-type",
        "/v2/models/nameorigin/infer",
        {"inputs": [{"name": "names", "shape": [1], "datatype": "FP32", "data": [1.0]}]},
    ),
    post(
        "v2-infer-unknown-model",
        "/v2/models/other/infer",
        {"inputs": [{"name": "names", "shape": [1], "datatype": "BYTES", "data": ["Ito"]}]},
    ),
    # nothing there
    Case("unknown-path", "GET", "/nope"),
    Case("unknown-post", "POST", "/nope/deeper", b"{}", JSON),
]

#: Fields that legitimately differ between two answers to the same request.
VOLATILE_KEYS = {"request_id", "requestId", "timestamp", "elapsed", "elapsed_ms", "took_ms"}


def comparable(body: bytes) -> Any:
    """The JSON body without request ids and timings."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in VOLATILE_KEYS}
        if isinstance(value, list):
            return [strip(item) for item in value]
        return value

    return strip(json.loads(body))


def api_gateway_event(case: Case) -> dict[str, Any]:
    """What API Gateway's REST proxy integration hands the function for this request."""
    headers = {"Host": "abc123.execute-api.us-east-1.amazonaws.com", **case.headers}
    is_text = True
    body: str | None = None
    if case.body:
        try:
            body = case.body.decode("utf-8")
        except UnicodeDecodeError:
            import base64  # noqa: PLC0415

            body, is_text = base64.b64encode(case.body).decode(), False
    return {
        "resource": "/{proxy+}",
        "path": case.path,
        "httpMethod": case.method,
        "headers": headers,
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in case.query.items()} or None,
        "multiValueQueryStringParameters": case.query or None,
        "pathParameters": {"proxy": case.path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": case.method,
            "path": f"/prod{case.path}",
            "stage": "prod",
            "requestId": str(uuid.uuid4()),
            "accountId": "123456789012",
            "apiId": "abc123",
            "identity": {"sourceIp": "203.0.113.9", "userAgent": "tests"},
            "requestTimeEpoch": int(time.time() * 1000),
            "protocol": "HTTP/1.1",
        },
        "body": body,
        "isBase64Encoded": not is_text,
    }


@pytest.fixture(scope="module")
def lambda_handler() -> Iterator[Callable[[dict[str, Any], Any], dict[str, Any]]]:
    """The API Gateway function's real handler, imported as Lambda would (model loaded at init)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POWERTOOLS_METRICS_NAMESPACE", "nameorigin-tests")
        patch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        patch.setenv("POWERTOOLS_SERVICE_NAME", "nameorigin")
        module: ModuleType = importlib.import_module("nameorigin.lambda_api.handler")
        yield module.lambda_handler


def content_type_of(result: dict[str, Any]) -> str:
    """The Content-Type of a proxy result (Powertools fills ``multiValueHeaders``)."""
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[key.lower()] = values[-1]
    return str(headers["content-type"])


def send(client: httpx.Client, case: Case) -> httpx.Response:
    url = case.path + (f"?{urlencode(case.query, doseq=True)}" if case.query else "")
    return client.request(case.method, url, content=case.body, headers=case.headers)


def test_every_request_gets_the_lambdas_status_and_json(
    ready_server: ServerProcess,
    lambda_handler: Callable[[dict[str, Any], Any], dict[str, Any]],
) -> None:
    differences = []
    with ready_server.client() as client:
        for case in CORPUS:
            over_http = send(client, case)
            on_lambda = lambda_handler(
                api_gateway_event(case),
                lambda_context("nameorigin-api", aws_request_id="lambda-request"),
            )
            http_answer = (over_http.status_code, comparable(over_http.content))
            lambda_answer = (on_lambda["statusCode"], comparable(on_lambda["body"].encode()))
            if http_answer != lambda_answer:
                differences.append((case.id, http_answer, lambda_answer))
            assert over_http.headers["content-type"] == content_type_of(on_lambda), case.id
    assert differences == []
    statuses = {
        lambda_handler(
            api_gateway_event(c), lambda_context("nameorigin-api", aws_request_id="lambda-request")
        )["statusCode"]
        for c in CORPUS
    }
    # The corpus really covers success and every kind of client error.
    assert {200, 400, 404, 405, 413, 415, 422} <= statuses


def test_the_old_clients_call_answers_like_the_classifier(
    ready_server: ServerProcess, classifier: Classifier
) -> None:
    with ready_server.client() as client:
        answer = client.post("/get_prediction", json={"name": "Jordan", "n_predictions": 2})
    assert answer.status_code == 200
    [expected] = classifier.classify(["Jordan"], 2)
    assert isinstance(expected, Prediction)
    assert answer.json() == {
        "predictions": list(expected.labels),
        "probabilities": pytest.approx(list(expected.log_probabilities), abs=1e-6),
    }


def test_the_manifests_probes_answer_on_the_real_server(ready_server: ServerProcess) -> None:
    manifest = yaml.safe_load(SERVICE_MANIFEST.read_text(encoding="utf-8"))
    [container] = manifest["spec"]["template"]["spec"]["containers"]
    with ready_server.client() as client:
        for probe in ("readinessProbe", "livenessProbe"):
            answer = client.get(container[probe]["httpGet"]["path"])
            assert answer.status_code == 200, probe
    assert container["ports"][0]["containerPort"] == 8080  # the server's default $PORT


def test_metrics_count_requests_by_route_template_names_and_errors(
    ready_server: ServerProcess,
) -> None:
    with ready_server.client() as client:
        client.post("/predict", json={"names": ["Ito", "Rossi", "Smith"]})
        client.post("/predict", json={"names": [""]})
        client.get("/v2/models/whatever/ready")
        text = client.get("/metrics").text
    assert (
        'nameorigin_http_request_duration_seconds_count{method="POST",route="/predict",status="200"}'
        in text
    )
    assert 'route="/v2/models/<model>/ready",status="404"' in text
    assert 'nameorigin_names_classified_total{route="/predict"}' in text
    names = next(
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith('nameorigin_names_classified_total{route="/predict"}')
    )
    assert names >= 3
    assert "nameorigin_errors_total{kind=" in text and 'status="422"' in text
    assert "nameorigin_model_duration_seconds_bucket" in text
    assert "nameorigin_http_requests_in_flight 0.0" in text


def test_a_broken_model_keeps_the_server_live_but_never_ready(
    start_server: StartServer, committed_model_dir: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "manifest.json").write_text(
        (committed_model_dir / "manifest.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (broken / "model.onnx").write_bytes(b"not an onnx graph")
    server = start_server(NAMEORIGIN_MODEL_DIR=str(broken))
    server.wait_until("/v2/health/live")
    deadline = time.monotonic() + 30
    while "model failed to load" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = server.log()
    assert "model failed to load" in log and "readiness stays false" in log
    assert str(broken) in log and "ArtifactError" in log  # says where and why
    with server.client() as client:
        for _ in range(3):
            assert client.get("/v2/health/ready").status_code == 503
            assert client.get("/v2/health/live").status_code == 200
        answer = client.post("/get_prediction", json={"name": "Jordan"})
    assert answer.status_code == 503
    assert "error" in answer.json()


def test_sigterm_lets_the_request_in_flight_finish(
    start_server: StartServer, classifier: Classifier
) -> None:
    # A batch big enough to take a while on this model; the limit is raised for it, honestly.
    names = [f"{stem}{i}" for i, stem in enumerate(["Jordan", "Nakamura", "Rossi"] * 10_000)]
    names = [name.rstrip("0123456789") + "son" * (i % 3) for i, name in enumerate(names)]
    server = start_server(NAMEORIGIN_MAX_BATCH_NAMES=str(len(names)))
    server.wait_until("/v2/health/ready")
    outcome: dict[str, Any] = {}

    def send_batch() -> None:
        with server.client(timeout=120) as client:
            try:
                outcome["response"] = client.post("/predict", json={"names": names, "top_k": 1})
            except httpx.HTTPError as error:
                outcome["error"] = error

    sender = threading.Thread(target=send_batch)
    sender.start()
    with server.client(timeout=5) as client:
        deadline = time.monotonic() + 60
        while "nameorigin_http_requests_in_flight 1.0" not in client.get("/metrics").text:
            assert time.monotonic() < deadline, "the batch never reached the server"
            time.sleep(0.01)
    exit_code = server.terminate()
    sender.join(timeout=120)

    assert "error" not in outcome, outcome.get("error")
    response: httpx.Response = outcome["response"]
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == len(names)
    expected = classifier.classify(names[-5:], 1)
    assert [r["labels"] for r in results[-5:]] == [list(e.labels) for e in expected]  # type: ignore[union-attr]
    log = server.log()
    assert "Shutting down" in log
    assert "Waiting for connections to close" in log  # the request was still open at SIGTERM
    assert "Finished server process" in log
    assert exit_code in (0, -15)  # uvicorn re-raises SIGTERM after a clean shutdown
    with pytest.raises(httpx.ConnectError), server.client(timeout=2) as client:
        client.get("/v2/health/live")


def test_the_server_takes_port_interface_and_drain_time_from_the_settings(
    committed_model_dir: Path,
) -> None:
    from nameorigin.config import Settings  # noqa: PLC0415
    from nameorigin.server.__main__ import build_config  # noqa: PLC0415

    settings = Settings.from_environ(
        {
            "PORT": "9123",
            "NAMEORIGIN_HTTP_HOST": "127.0.0.2",
            "NAMEORIGIN_SHUTDOWN_TIMEOUT_SECONDS": "7",
            "NAMEORIGIN_MODEL_DIR": str(committed_model_dir),
        }
    )
    config = build_config(settings)
    assert (config.host, config.port, config.timeout_graceful_shutdown) == ("127.0.0.2", 9123, 7)
    assert config.workers == settings.http_workers == 2
    assert config.lifespan == "on"
