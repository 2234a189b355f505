"""What the routes report, and where it goes: one tiny interface, one implementation per front door.

Routes call ``current()`` and report four facts; they never know whether those become CloudWatch
EMF metrics (Lambda: ``PowertoolsTelemetry``), Prometheus series (Knative: plug your own class in
with ``use()``), or nothing (``NoTelemetry``, the default, so importing the app has no side effect).

``route`` is always the route's template (``/v2/models/<model>/infer``), or ``UNMATCHED`` for a
path no route serves, so label sets stay small.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics

UNMATCHED = "unmatched"


class Telemetry(Protocol):
    """The facts the API reports; implementations must be cheap and must never raise."""

    def request_finished(self, route: str, method: str, status: int, seconds: float) -> None:
        """One request answered with ``status`` after ``seconds`` inside the resolver."""

    def names_classified(self, route: str, count: int) -> None:
        """``count`` names went through the model (rejected names are not counted)."""

    def model_latency(self, route: str, seconds: float) -> None:
        """One ``Classifier.classify`` call (normalize + encode + run + top-k) took ``seconds``."""

    def error(self, route: str, kind: str, status: int) -> None:
        """A request failed: ``kind`` is the error type of the JSON body (e.g. ``validation``)."""


class NoTelemetry:
    """Reports nothing: the default until a front door installs its own."""

    def request_finished(self, route: str, method: str, status: int, seconds: float) -> None:
        """Ignore."""

    def names_classified(self, route: str, count: int) -> None:
        """Ignore."""

    def model_latency(self, route: str, seconds: float) -> None:
        """Ignore."""

    def error(self, route: str, kind: str, status: int) -> None:
        """Ignore."""


class PowertoolsTelemetry:
    """CloudWatch EMF through a Powertools ``Metrics`` (flushed by ``@metrics.log_metrics``).

    Metric names: ``Requests``, ``NamesClassified``, ``ModelLatency`` (ms), ``Errors`` and
    ``ServerErrors`` (5xx only), all in the namespace ``POWERTOOLS_METRICS_NAMESPACE`` with the
    ``service`` dimension. No per-route dimension: API Gateway's own metrics already split by
    resource, and every extra dimension multiplies the metric cost.
    """

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def request_finished(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count the request."""
        from aws_lambda_powertools.metrics import MetricUnit  # noqa: PLC0415 - Lambda only

        self.metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)

    def names_classified(self, route: str, count: int) -> None:
        """Count the names."""
        from aws_lambda_powertools.metrics import MetricUnit  # noqa: PLC0415

        self.metrics.add_metric(name="NamesClassified", unit=MetricUnit.Count, value=count)

    def model_latency(self, route: str, seconds: float) -> None:
        """Record the model's time in milliseconds."""
        from aws_lambda_powertools.metrics import MetricUnit  # noqa: PLC0415

        self.metrics.add_metric(
            name="ModelLatency", unit=MetricUnit.Milliseconds, value=seconds * 1000.0
        )

    def error(self, route: str, kind: str, status: int) -> None:
        """Count the error; 5xx also counts as a server error."""
        from aws_lambda_powertools.metrics import MetricUnit  # noqa: PLC0415

        self.metrics.add_metric(name="Errors", unit=MetricUnit.Count, value=1)
        if status >= 500:
            self.metrics.add_metric(name="ServerErrors", unit=MetricUnit.Count, value=1)


_current: Telemetry = NoTelemetry()


def use(telemetry: Telemetry) -> None:
    """Install the process's telemetry (the Lambda handler and the HTTP app call this once)."""
    global _current  # noqa: PLW0603 - one sink per process, chosen by the front door
    _current = telemetry


def current() -> Telemetry:
    """The installed telemetry (``NoTelemetry`` until ``use`` is called)."""
    return _current
