"""The Lambda entry point: init-phase model load, EMF metrics, JSON logs with correlation id."""

from __future__ import annotations

import importlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from nameorigin import model_store
from nameorigin.api import telemetry
from nameorigin.api.app import app
from nameorigin.core.classifier import Classifier

from .conftest import FakeLambdaContext, answer_of, load_event

#: What template.yaml's Globals give every function (Powertools reads them at import).
LAMBDA_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "nameorigin",
    "POWERTOOLS_METRICS_NAMESPACE": "NameOrigin",
}


@pytest.fixture
def handler(loaded_model: Classifier, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The handler module (imported once per process, like Lambda's init), telemetry restored."""
    for key, value in LAMBDA_ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    previous = telemetry.current()
    module = importlib.import_module("nameorigin.api.handler")  # the import is the init phase

    telemetry.use(telemetry.PowertoolsTelemetry(module.metrics))
    module.metrics.clear_metrics()
    yield module
    module.metrics.clear_metrics()
    telemetry.use(previous)


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


def test_importing_the_handler_loads_the_model_in_the_init_phase() -> None:
    code = (
        "import nameorigin.model_store as s, nameorigin.api.handler as h, nameorigin.api.telemetry"
        " as t; print(s.is_ready(), type(t.current()).__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, **LAMBDA_ENVIRONMENT},
    )

    assert result.stdout.split() == ["True", "PowertoolsTelemetry"]


@pytest.mark.parametrize("name", ["get_prediction", "predict", "v2_infer", "predict_invalid_names"])
def test_handler_answers_like_the_resolver(name: str, handler: ModuleType) -> None:
    event = load_event(name)

    through_handler = answer_of(handler.lambda_handler(event, FakeLambdaContext()))

    direct = answer_of(app.resolve(load_event(name), FakeLambdaContext()))  # type: ignore[arg-type]
    assert (through_handler.status, through_handler.body) == (direct.status, direct.body)


def test_handler_emits_emf_metrics(handler: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    names = json.loads(load_event("predict")["body"])["names"]

    handler.lambda_handler(load_event("predict"), FakeLambdaContext())

    metrics = emf_metrics(json_lines(capsys.readouterr().out))
    assert metrics["Requests"] == [1.0]
    assert metrics["NamesClassified"] == [float(len(names))]
    assert metrics["ModelLatency"][0] > 0


def test_handler_counts_errors_as_metrics(
    handler: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    handler.lambda_handler(load_event("unknown_route"), FakeLambdaContext())

    metrics = emf_metrics(json_lines(capsys.readouterr().out))
    assert metrics["Errors"] == [1.0]
    assert "ServerErrors" not in metrics


def test_logs_are_json_with_the_api_gateway_request_id(handler: ModuleType) -> None:
    event = load_event("get_prediction")
    stream = io.StringIO()
    log_handler = handler.logger.registered_handler
    original = log_handler.setStream(stream)
    try:
        handler.lambda_handler(event, FakeLambdaContext())
        handler.logger.info("probe")
    finally:
        log_handler.setStream(original)

    (record,) = [line for line in json_lines(stream.getvalue()) if line.get("message") == "probe"]
    assert record["correlation_id"] == event["requestContext"]["requestId"]
    assert record["service"] == "nameorigin"
    assert record["function_request_id"] == FakeLambdaContext().aws_request_id


def test_failed_model_load_leaves_routes_answering_503(
    handler: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_store.reset_for_tests()
    monkeypatch.setenv("NAMEORIGIN_MODEL_DIR", "/nonexistent/model")
    with pytest.raises(Exception, match="manifest"):
        model_store.load()

    answer = answer_of(handler.lambda_handler(load_event("get_prediction"), FakeLambdaContext()))

    assert answer.status == 503
    assert "manifest" in answer.body["error"]
    model_store.reset_for_tests()
