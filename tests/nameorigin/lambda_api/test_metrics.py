"""The API function's telemetry: the routes' reports as CloudWatch EMF."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from aws_lambda_powertools import Metrics

from nameorigin.lambda_api.metrics import PowertoolsTelemetry
from nameorigin.routes.telemetry import Telemetry


@pytest.fixture
def metrics() -> Iterator[Metrics]:
    """A Powertools Metrics; its metric set is shared by every instance, so it starts empty."""
    instance = Metrics(namespace="NameOriginTest", service="nameorigin")
    instance.clear_metrics()
    yield instance
    instance.clear_metrics()


def test_it_is_the_routes_telemetry(metrics: Metrics) -> None:
    emf: Telemetry = PowertoolsTelemetry(metrics)

    emf.request_finished("/predict", "POST", 200, 0.01)


def test_powertools_telemetry_writes_emf_with_milliseconds_and_server_errors(
    metrics: Metrics, capsys: pytest.CaptureFixture[str]
) -> None:
    emf = PowertoolsTelemetry(metrics)

    emf.request_finished("/predict", "POST", 500, 0.5)
    emf.names_classified("/predict", 7)
    emf.model_latency("/predict", 0.25)
    emf.error("/predict", "internal_error", 500)
    metrics.flush_metrics()

    blob = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    units = {m["Name"]: m["Unit"] for m in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units["ModelLatency"] == "Milliseconds"
    assert blob["ModelLatency"] == pytest.approx([250.0])
    assert blob["NamesClassified"] == [7.0]
    assert blob["Errors"] == [1.0]
    assert blob["ServerErrors"] == [1.0]
    assert blob["Requests"] == [1.0]
