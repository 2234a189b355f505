"""Fixtures for the API tests: the committed events, a loaded model, and a way to resolve events."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nameorigin import model_store
from nameorigin.api import telemetry
from nameorigin.config import REPOSITORY_MODEL_DIR, Settings
from nameorigin.core.classifier import Classifier
from nameorigin.core.manifest import load_manifest

EVENTS_DIR = Path(__file__).resolve().parents[3] / "events" / "api"


def load_event(name: str) -> dict[str, Any]:
    """``events/api/<name>.json`` as a dict."""
    event: dict[str, Any] = json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return event


def event_names() -> list[str]:
    """Every committed API event, by file stem."""
    return sorted(path.stem for path in EVENTS_DIR.glob("*.json"))


@dataclass
class FakeLambdaContext:
    """The Lambda context fields Powertools reads."""

    function_name: str = "ApiFunction"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:ApiFunction"
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"

    def get_remaining_time_in_millis(self) -> int:
        """Plenty of time."""
        return 29_000


@dataclass
class Answer:
    """A proxy response, with the body parsed."""

    status: int
    body: Any
    headers: dict[str, list[str]]


def answer_of(response: dict[str, Any]) -> Answer:
    """Parse an API Gateway proxy response."""
    return Answer(
        status=int(response["statusCode"]),
        body=json.loads(response["body"]) if response.get("body") else None,
        headers=dict(response.get("multiValueHeaders") or {}),
    )


@pytest.fixture
def loaded_model() -> Classifier:
    """The model store holding the committed artifact, as on Lambda after init.

    Reuses what is loaded when it is the committed model (loading once per worker), reloads it
    when another test left the store empty or holding another artifact.
    """
    committed = load_manifest(REPOSITORY_MODEL_DIR).model_sha256
    if model_store.is_ready() and model_store.current().manifest.model_sha256 == committed:
        return model_store.current()
    model_store.reset_for_tests()
    settings = Settings.from_environ({"NAMEORIGIN_MODEL_DIR": str(REPOSITORY_MODEL_DIR)})
    return model_store.load(settings)


@pytest.fixture
def resolve(loaded_model: Classifier) -> Callable[[dict[str, Any]], Answer]:
    """Resolve an event with the app (the model loaded), returning the parsed answer."""
    from nameorigin.api.app import app  # noqa: PLC0415 - after the model is loaded

    def run(event: dict[str, Any]) -> Answer:
        return answer_of(app.resolve(event, FakeLambdaContext()))  # type: ignore[arg-type]

    return run


class RecordingTelemetry:
    """Keeps every report, to assert on what the routes said."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, int]] = []
        self.names: list[tuple[str, int]] = []
        self.latencies: list[tuple[str, float]] = []
        self.errors: list[tuple[str, str, int]] = []

    def request_finished(self, route: str, method: str, status: int, seconds: float) -> None:
        """Record."""
        self.requests.append((route, method, status))

    def names_classified(self, route: str, count: int) -> None:
        """Record."""
        self.names.append((route, count))

    def model_latency(self, route: str, seconds: float) -> None:
        """Record."""
        self.latencies.append((route, seconds))

    def error(self, route: str, kind: str, status: int) -> None:
        """Record."""
        self.errors.append((route, kind, status))


@pytest.fixture
def recorded() -> Iterator[RecordingTelemetry]:
    """Install a recording telemetry for one test, then restore the previous one."""
    previous = telemetry.current()
    recording = RecordingTelemetry()
    telemetry.use(recording)
    yield recording
    telemetry.use(previous)
