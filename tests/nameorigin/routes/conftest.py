"""Fixtures for the route tests: a resolver over the committed model, and events resolved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from api_events import Answer, RecordingTelemetry, answer_of
from support import lambda_context

from nameorigin.config import REPOSITORY_MODEL_DIR, Settings
from nameorigin.core.classifier import Classifier
from nameorigin.core.model_store import ModelStore
from nameorigin.routes.resolver import NameOriginResolver, create_resolver

Resolve = Callable[[dict[str, Any]], Answer]
#: Builds a resolver with settings from NAMEORIGIN_* values and a model store (loaded or not).
MakeResolver = Callable[..., NameOriginResolver]


@pytest.fixture(scope="session")
def models() -> ModelStore:
    """The committed model, loaded once per worker, as on Lambda after init."""
    store = ModelStore(Settings.from_environ({"NAMEORIGIN_MODEL_DIR": str(REPOSITORY_MODEL_DIR)}))
    store.load()
    return store


@pytest.fixture
def loaded_model(models: ModelStore) -> Classifier:
    """The loaded classifier the routes answer with."""
    return models.current()


@pytest.fixture
def recorded() -> RecordingTelemetry:
    """Telemetry that keeps every report of one test."""
    return RecordingTelemetry()


@pytest.fixture
def make_resolver(models: ModelStore, recorded: RecordingTelemetry) -> MakeResolver:
    """A resolver over the loaded model (or ``models=``), with settings from ``NAMEORIGIN_*``."""

    def make(store: ModelStore | None = None, **limits: int) -> NameOriginResolver:
        settings = Settings.from_environ(
            {f"NAMEORIGIN_{key.upper()}": str(value) for key, value in limits.items()}
        )
        return create_resolver(settings, store or models, recorded)

    return make


@pytest.fixture
def resolve(make_resolver: MakeResolver) -> Resolve:
    """Resolve an event with the default settings and the loaded model, returning the answer."""
    app = make_resolver()

    def run(event: dict[str, Any]) -> Answer:
        return answer_of(app.resolve(event, lambda_context()))  # type: ignore[arg-type]

    return run
