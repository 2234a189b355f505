"""The committed API Gateway events (``events/api/``) and how tests read the answers to them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events" / "api"


def load_event(name: str) -> dict[str, Any]:
    """``events/api/<name>.json`` as a dict."""
    event: dict[str, Any] = json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return event


def event_names() -> list[str]:
    """Every committed API event, by file stem."""
    return sorted(path.stem for path in EVENTS_DIR.glob("*.json"))


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
