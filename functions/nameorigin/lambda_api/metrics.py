"""CloudWatch EMF for the API function: the routes' telemetry as Powertools metrics."""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit


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

        self.metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)

    def names_classified(self, route: str, count: int) -> None:
        """Count the names."""

        self.metrics.add_metric(name="NamesClassified", unit=MetricUnit.Count, value=count)

    def model_latency(self, route: str, seconds: float) -> None:
        """Record the model's time in milliseconds."""

        self.metrics.add_metric(
            name="ModelLatency", unit=MetricUnit.Milliseconds, value=seconds * 1000.0
        )

    def error(self, route: str, kind: str, status: int) -> None:
        """Count the error; 5xx also counts as a server error."""

        self.metrics.add_metric(name="Errors", unit=MetricUnit.Count, value=1)
        if status >= 500:
            self.metrics.add_metric(name="ServerErrors", unit=MetricUnit.Count, value=1)
