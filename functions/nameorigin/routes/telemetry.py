"""What the routes report, and where it goes: one tiny interface, one implementation per front door.

Each entry point passes its implementation to ``create_resolver``; routes report four facts and
never know whether those become CloudWatch EMF metrics (``nameorigin.lambda_api.metrics``),
Prometheus series (``nameorigin.server.metrics``), or nothing (``NoTelemetry``, the default).

``route`` is always the route's template (``/v2/models/<model>/infer``), or ``UNMATCHED`` for a
path no route serves, so label sets stay small.
"""

from __future__ import annotations

from typing import Protocol

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
    """Reports nothing: for tools (OpenAPI generation) and tests that do not look."""

    def request_finished(self, route: str, method: str, status: int, seconds: float) -> None:
        """Ignore."""

    def names_classified(self, route: str, count: int) -> None:
        """Ignore."""

    def model_latency(self, route: str, seconds: float) -> None:
        """Ignore."""

    def error(self, route: str, kind: str, status: int) -> None:
        """Ignore."""
