"""Prometheus metrics for the HTTP process; the Lambda side reports the same facts as EMF.

The API's routes report through ``nameorigin.routes.telemetry``; ``PrometheusTelemetry`` is the
Knative implementation of that interface. The server adds the one thing only it can see: the whole
HTTP request's latency (including the wait for the resolver thread), labelled with the route
template it asks the resolver for. Each app gets its own registry, so tests never share counters.

With several HTTP worker processes (``NAMEORIGIN_HTTP_WORKERS`` > 1) the server sets
``PROMETHEUS_MULTIPROC_DIR`` before they start: each worker writes its series there and any worker
answering ``/metrics`` sums them all (prometheus_client's multiprocess mode), so a scrape sees the
whole pod, whichever worker it reaches.
"""

from __future__ import annotations

import os
from typing import Generic, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)

#: Set (by ``python -m nameorigin.server``) when several worker processes share one pod's metrics.
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_mode() -> bool:
    """True when this process's series are summed with its sibling workers'."""
    return bool(os.environ.get(MULTIPROCESS_ENV))


#: Request latency buckets (seconds): single names take about a millisecond, big batches seconds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

MetricT = TypeVar("MetricT", Counter, Histogram)


class Children(Generic[MetricT]):
    """``metric.labels(*values)``, each child looked up once.

    prometheus_client validates the label values and takes a lock on every ``labels`` call, a few
    microseconds each time a request reports. Nothing here removes a child, so a dict can remember
    each one. (Two threads racing on a new child both get prometheus_client's one child.)
    """

    def __init__(self, metric: MetricT) -> None:
        self._metric: MetricT = metric
        self._children: dict[tuple[str, ...], MetricT] = {}

    def __call__(self, *values: str) -> MetricT:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child


class PrometheusTelemetry:
    """``nameorigin.routes.telemetry.Telemetry`` as Prometheus series, plus the HTTP histogram."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.shared = multiprocess_mode()
        if not self.shared:  # per-process figures would describe one worker of several
            ProcessCollector(registry=self.registry)
        self.request_seconds = Histogram(
            "nameorigin_http_request_duration_seconds",
            "Time from a complete HTTP request to its complete answer, by route and status.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "nameorigin_http_requests_in_flight",
            "Requests received and not yet answered (what Knative's concurrency target counts).",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.errors = Counter(
            "nameorigin_errors",
            "Requests answered with an error, by route, error kind and status.",
            ["route", "kind", "status"],
            registry=self.registry,
        )
        self.names = Counter(
            "nameorigin_names_classified",
            "Names the model classified (rejected names are not counted).",
            ["route"],
            registry=self.registry,
        )
        self.model_seconds = Histogram(
            "nameorigin_model_duration_seconds",
            "Time of one classifier call (normalize, encode, run, top-k; one call may hold many).",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._request_seconds = Children(self.request_seconds)
        self._errors = Children(self.errors)
        self._names = Children(self.names)
        self._model_seconds = Children(self.model_seconds)

    # -- the API's Telemetry protocol -------------------------------------------------------

    def request_finished(self, route: str, method: str, status: int, seconds: float) -> None:
        """Nothing: the server observes the whole HTTP request instead (``observe_request``)."""

    def names_classified(self, route: str, count: int) -> None:
        """Count classified names."""
        self._names(route).inc(count)

    def model_latency(self, route: str, seconds: float) -> None:
        """Observe one classifier call."""
        self._model_seconds(route).observe(seconds)

    def error(self, route: str, kind: str, status: int) -> None:
        """Count one error answer."""
        self._errors(route, kind, str(status)).inc()

    # -- the adapter's side -----------------------------------------------------------------

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Record one answered HTTP request."""
        self._request_seconds(route, method, str(status)).observe(seconds)

    def render(self) -> bytes:
        """The exposition text for ``/metrics`` (every worker's series, summed, when shared)."""
        if not self.shared:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
