"""The telemetry interface: the no-op default, and the resolver reporting into what it was given."""

from __future__ import annotations

from api_events import RecordingTelemetry, load_event
from support import lambda_context

from nameorigin.routes import telemetry

from .conftest import MakeResolver


def test_the_no_op_and_the_recording_implementations_satisfy_the_protocol() -> None:
    implementations: list[telemetry.Telemetry] = [telemetry.NoTelemetry(), RecordingTelemetry()]

    for implementation in implementations:
        implementation.request_finished("/predict", "POST", 200, 0.01)
        implementation.names_classified("/predict", 3)
        implementation.model_latency("/predict", 0.002)
        implementation.error("/predict", "validation_error", 422)


def test_each_resolver_reports_into_its_own_telemetry(make_resolver: MakeResolver) -> None:
    from nameorigin.routes.resolver import create_resolver  # noqa: PLC0415

    first = make_resolver()
    other = RecordingTelemetry()
    second = create_resolver(first.deps.settings, first.deps.models, other)

    second.resolve(load_event("check_service"), lambda_context())  # type: ignore[arg-type]

    assert other.requests == [("/check_service", "GET", 200)]
    assert first.deps.telemetry.requests == []  # type: ignore[attr-defined]
