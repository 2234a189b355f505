"""Prometheus telemetry: the API's Telemetry protocol as series, one registry per app."""

from __future__ import annotations

import threading

from nameorigin.api.telemetry import UNMATCHED, Telemetry
from nameorigin.http.metrics import PrometheusTelemetry


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


def test_the_reported_route_labels_the_http_histogram() -> None:
    metrics = PrometheusTelemetry()
    metrics.begin_request()
    assert metrics.reported_route() == UNMATCHED
    metrics.request_finished("/v2/models/<model>/infer", "POST", 200, 0.001)
    metrics.observe_request(metrics.reported_route(), "POST", 200, 0.004)
    labels = {"route": "/v2/models/<model>/infer", "method": "POST", "status": "200"}
    assert sample(metrics, "nameorigin_http_request_duration_seconds_count", labels) == 1


def test_the_reported_route_belongs_to_the_thread_that_resolved() -> None:
    metrics = PrometheusTelemetry()
    metrics.begin_request()
    other = threading.Thread(target=metrics.request_finished, args=("/predict", "POST", 200, 0.0))
    other.start()
    other.join()
    assert metrics.reported_route() == UNMATCHED


def test_each_instance_has_its_own_registry() -> None:
    first, second = PrometheusTelemetry(), PrometheusTelemetry()
    first.names_classified("/predict", 1)
    assert sample(second, "nameorigin_names_classified_total", {"route": "/predict"}) == 0
    assert b"nameorigin_names_classified_total" in first.render()
