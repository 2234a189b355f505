"""Prometheus telemetry: the API's Telemetry protocol as series, one registry per app."""

from __future__ import annotations

import threading

from nameorigin.routes.telemetry import Telemetry
from nameorigin.server.metrics import Children, PrometheusTelemetry


def sample(metrics: PrometheusTelemetry, name: str, labels: dict[str, str]) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_it_is_the_apis_telemetry_and_records_each_fact() -> None:
    metrics = PrometheusTelemetry()
    telemetry: Telemetry = metrics  # the protocol, checked by mypy
    telemetry.names_classified("/predict", 3)
    telemetry.names_classified("/predict", 2)
    telemetry.model_latency("/predict", 0.002)
    telemetry.error("/predict", "validation", 422)
    route = {"route": "/predict"}
    assert sample(metrics, "nameorigin_names_classified_total", route) == 5
    assert sample(metrics, "nameorigin_model_duration_seconds_count", route) == 1
    errors = {"route": "/predict", "kind": "validation", "status": "422"}
    assert sample(metrics, "nameorigin_errors_total", errors) == 1


def test_the_http_histogram_takes_the_route_the_server_names() -> None:
    metrics = PrometheusTelemetry()
    metrics.request_finished("/v2/models/<model>/infer", "POST", 200, 0.001)  # keeps nothing
    metrics.observe_request("/v2/models/<model>/infer", "POST", 200, 0.004)
    labels = {"route": "/v2/models/<model>/infer", "method": "POST", "status": "200"}
    assert sample(metrics, "nameorigin_http_request_duration_seconds_count", labels) == 1


def test_it_keeps_no_per_request_state() -> None:
    metrics = PrometheusTelemetry()
    before = set(vars(metrics))
    metrics.request_finished("/predict", "POST", 200, 0.0)
    assert set(vars(metrics)) == before
    assert not any(isinstance(value, threading.local) for value in vars(metrics).values())


def test_each_instance_has_its_own_registry() -> None:
    first, second = PrometheusTelemetry(), PrometheusTelemetry()
    first.names_classified("/predict", 1)
    assert sample(second, "nameorigin_names_classified_total", {"route": "/predict"}) == 0
    assert b"nameorigin_names_classified_total" in first.render()


def test_children_are_prometheus_own_remembered() -> None:
    metrics = PrometheusTelemetry()
    children = Children(metrics.errors)
    first = children("/predict", "validation", "422")
    assert first is children("/predict", "validation", "422")
    assert first is metrics.errors.labels("/predict", "validation", "422")
    assert children("/predict", "validation", "400") is not first


def test_repeated_reports_add_up_on_one_series() -> None:
    metrics = PrometheusTelemetry()
    for _ in range(3):
        metrics.observe_request("/predict", "POST", 200, 0.001)
        metrics.error("/predict", "validation", 422)
    metrics.observe_request("/predict", "POST", 422, 0.001)
    labels = {"route": "/predict", "method": "POST", "status": "200"}
    assert sample(metrics, "nameorigin_http_request_duration_seconds_count", labels) == 3
    labels["status"] = "422"
    assert sample(metrics, "nameorigin_http_request_duration_seconds_count", labels) == 1
    errors = {"route": "/predict", "kind": "validation", "status": "422"}
    assert sample(metrics, "nameorigin_errors_total", errors) == 3
