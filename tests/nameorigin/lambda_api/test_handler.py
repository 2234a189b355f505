"""The Lambda entry point: init-phase model load, EMF metrics, JSON logs with correlation id."""

from __future__ import annotations

import importlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from api_events import answer_of, load_event
from support import TEST_REQUEST_ID, lambda_context

from nameorigin.config import Settings
from nameorigin.routes.resolver import create_resolver

SUPPORT_DIR = Path(__file__).resolve().parents[2] / "support"
#: What template.yaml's Globals give every function (Powertools reads them at import).
LAMBDA_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "nameorigin",
    "POWERTOOLS_METRICS_NAMESPACE": "NameOrigin",
}


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The handler module (imported once per process, like Lambda's init)."""
    for key, value in LAMBDA_ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    module = importlib.import_module("nameorigin.lambda_api.handler")  # the import is the init
    module.metrics.clear_metrics()
    yield module
    module.metrics.clear_metrics()


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects printed one per line (logs and EMF blobs)."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def emf_metrics(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Metric name -> value(s) of every EMF blob printed."""
    values: dict[str, Any] = {}
    for line in lines:
        for directive in line.get("_aws", {}).get("CloudWatchMetrics", []):
            for metric in directive["Metrics"]:
                values[metric["Name"]] = line[metric["Name"]]
    return values


def in_fresh_process(code: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new interpreter from the checkout, as a fresh Lambda init would."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, **LAMBDA_ENVIRONMENT, "PYTHONPATH": str(SUPPORT_DIR), **environment},
        cwd=SUPPORT_DIR.parents[1],
    )


def test_importing_the_handler_loads_the_model_in_the_init_phase() -> None:
    result = in_fresh_process(
        "import nameorigin.lambda_api.handler as h;"
        "print(h.models.is_ready(), type(h.app.deps.telemetry).__name__)"
    )

    assert result.stdout.split() == ["True", "PowertoolsTelemetry"]


@pytest.mark.parametrize("name", ["get_prediction", "predict", "v2_infer", "predict_invalid_names"])
def test_handler_answers_like_the_resolver(name: str, handler: ModuleType) -> None:
    event = load_event(name)

    through_handler = answer_of(handler.lambda_handler(event, lambda_context()))

    settings = Settings.from_environ({})
    app = create_resolver(settings, handler.models)
    direct = answer_of(app.resolve(load_event(name), lambda_context()))  # type: ignore[arg-type]
    assert (through_handler.status, through_handler.body) == (direct.status, direct.body)


def test_handler_emits_emf_metrics(handler: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    names = json.loads(load_event("predict")["body"])["names"]

    handler.lambda_handler(load_event("predict"), lambda_context())

    metrics = emf_metrics(json_lines(capsys.readouterr().out))
    assert metrics["Requests"] == [1.0]
    assert metrics["NamesClassified"] == [float(len(names))]
    assert metrics["ModelLatency"][0] > 0


def test_handler_counts_errors_as_metrics(
    handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    handler.lambda_handler(load_event("unknown_route"), lambda_context())

    metrics = emf_metrics(json_lines(capsys.readouterr().out))
    assert metrics["Errors"] == [1.0]
    assert "ServerErrors" not in metrics


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"httpMethod": None}, "httpMethod"),
        ({"path": 7}, "path"),
        ({"multiValueHeaders": True}, "multiValueHeaders"),
        ({"headers": {"Content-Type": ["application/json"]}}, "headers"),
        ({"body": {"name": "Jordan"}}, "body"),
    ],
)
def test_an_event_api_gateway_never_sends_is_a_400_naming_the_field(
    handler: ModuleType, capsys: pytest.CaptureFixture[str], change: dict[str, Any], named: str
) -> None:
    event = {**load_event("get_prediction"), **change}

    answer = answer_of(handler.lambda_handler(event, lambda_context()))

    assert answer.status == 400
    assert named in answer.body["error"]
    assert emf_metrics(json_lines(capsys.readouterr().out))["Errors"] == [1.0]


def test_a_non_object_event_is_a_400(handler: ModuleType) -> None:
    answer = answer_of(handler.lambda_handler([], lambda_context()))  # type: ignore[arg-type]
    assert answer.status == 400
    assert "JSON object" in answer.body["error"]


def test_logs_are_json_with_the_api_gateway_request_id(handler: ModuleType) -> None:
    event = load_event("get_prediction")
    stream = io.StringIO()
    log_handler = handler.logger.registered_handler
    original = log_handler.setStream(stream)
    try:
        handler.lambda_handler(event, lambda_context())
        handler.logger.info("probe")
    finally:
        log_handler.setStream(original)

    (record,) = [line for line in json_lines(stream.getvalue()) if line.get("message") == "probe"]
    assert record["correlation_id"] == event["requestContext"]["requestId"]
    assert record["service"] == "nameorigin"
    assert record["function_request_id"] == TEST_REQUEST_ID


def test_failed_model_load_leaves_routes_answering_503() -> None:
    code = (
        "import json, nameorigin.lambda_api.handler as h;"
        "event = json.load(open('events/api/get_prediction.json'));"
        "from support import lambda_context;"
        "r = h.lambda_handler(event, lambda_context());"
        "print(r['statusCode']); print(json.loads(r['body'])['error'])"
    )

    result = in_fresh_process(code, NAMEORIGIN_MODEL_DIR="/nonexistent/model")

    status, error = result.stdout.splitlines()[-2:]
    assert status == "503"
    assert "manifest" in error
    assert "model failed to load" in result.stdout + result.stderr
