"""Tracing is opt-in: off, the handler is untouched; on, Powertools Tracer wraps it."""

from __future__ import annotations

from typing import Any

import pytest

from nameorigin.tracing import traced


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return {"echo": event}


def test_off_returns_the_handler_itself() -> None:
    assert traced(handler, enabled=False) is handler


def test_on_wraps_the_handler_and_keeps_its_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")  # no daemon to send segments to here
    wrapped = traced(handler, enabled=True)
    assert wrapped is not handler
    assert wrapped({"a": 1}, object()) == {"echo": {"a": 1}}
