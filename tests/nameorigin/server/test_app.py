"""The ASGI app in-process: readiness follows the model load, and the adapter's own answers.

These drive the app through httpx's ASGI transport (no lifespan: the tests decide when the model
loads). Everything the API answers is covered over real HTTP in test_main.py.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from nameorigin.config import Settings
from nameorigin.core.classifier import Classifier
from nameorigin.core.model_store import ModelStore
from nameorigin.routes.resolver import create_resolver
from nameorigin.server.app import NameOriginHttpApp, create_app
from nameorigin.server.events import API_GATEWAY_PAYLOAD_LIMIT
from nameorigin.server.metrics import PrometheusTelemetry


def call(app: NameOriginHttpApp, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request through the ASGI interface, as uvicorn would make it."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(go())


def http_app(settings: Settings) -> NameOriginHttpApp:
    """The app with an unloaded model store and the shared resolver, as the server builds it."""
    models = ModelStore(settings)
    return NameOriginHttpApp(models, create_resolver(settings, models))


def test_ready_only_once_a_slow_model_load_finishes(
    committed_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real_load = Classifier.load.__func__  # type: ignore[attr-defined]

    def slow_load(cls: type[Classifier], *args: Any, **kwargs: Any) -> Classifier:
        assert release.wait(timeout=30), "the test never released the load"
        return real_load(cls, *args, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(Classifier, "load", classmethod(slow_load))
    app = http_app(Settings(model_dir=committed_model_dir))
    app.start_model_loading()

    assert call(app, "GET", "/v2/health/ready").status_code == 503
    assert call(app, "GET", "/v2/health/live").status_code == 200
    waiting = call(app, "POST", "/get_prediction", json={"name": "Jordan"})
    assert waiting.status_code == 503
    assert "loading" in waiting.json()["error"]

    release.set()
    assert app._loader is not None
    app._loader.join(timeout=30)
    assert call(app, "GET", "/v2/health/ready").json() == {"ready": True}
    assert call(app, "POST", "/get_prediction", json={"name": "Jordan"}).status_code == 200


def test_a_failed_load_is_logged_with_its_reason_and_never_ready(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = http_app(Settings(model_dir=tmp_path / "missing"))
    with caplog.at_level("ERROR", logger="nameorigin.server"):
        app.start_model_loading()
        assert app._loader is not None
        app._loader.join(timeout=30)
    assert "readiness stays false" in caplog.text and "missing" in caplog.text
    assert call(app, "GET", "/v2/health/ready").status_code == 503


class ExplodingResolver:
    """A resolver whose route raises, as an unhandled bug in a handler would."""

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("bug")

    def route_name(self, path: str) -> str:
        return "/anything"


def test_an_unhandled_error_is_api_gateways_502_and_is_counted(committed_model_dir: Path) -> None:
    metrics = PrometheusTelemetry()
    app = NameOriginHttpApp(
        ModelStore(Settings(model_dir=committed_model_dir)), ExplodingResolver(), metrics=metrics
    )
    answer = call(app, "GET", "/anything")
    assert answer.status_code == 502
    assert answer.json() == {"message": "Internal server error"}
    assert 'nameorigin_errors_total{kind="unhandled",route="/anything"' in metrics.render().decode()


def test_a_body_over_api_gateways_limit_is_413_before_the_resolver(
    committed_model_dir: Path,
) -> None:
    app = NameOriginHttpApp(
        ModelStore(Settings(model_dir=committed_model_dir)), ExplodingResolver()
    )
    answer = call(app, "POST", "/predict", content=b"x" * (API_GATEWAY_PAYLOAD_LIMIT + 1))
    assert answer.status_code == 413
    assert "limit" in answer.json()["message"]


def test_metrics_are_prometheus_text(committed_model_dir: Path) -> None:
    app = http_app(Settings(model_dir=committed_model_dir))
    call(app, "GET", "/check_service")
    answer = call(app, "GET", "/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert "# TYPE nameorigin_http_request_duration_seconds histogram" in answer.text
    assert "process_resident_memory_bytes" in answer.text


def test_without_a_cloudevents_handler_the_path_is_the_apis_404(committed_model_dir: Path) -> None:
    app = http_app(Settings(model_dir=committed_model_dir))
    answer = call(app, "POST", "/cloudevents", content=json.dumps({}))
    assert answer.status_code == 404


def test_the_apps_resolver_enforces_the_settings_it_was_given(committed_model_dir: Path) -> None:
    app = create_app(Settings(model_dir=committed_model_dir, max_batch_names=1))
    app.models.load()

    answer = call(app, "POST", "/predict", json={"names": ["Ito", "Rossi"]})

    assert answer.status_code == 422
    assert answer.json()["detail"][0]["type"] == "too_many_names"


def test_requests_are_labelled_with_the_route_the_resolver_names(committed_model_dir: Path) -> None:
    app = create_app(Settings(model_dir=committed_model_dir))
    app.models.load()

    call(app, "GET", "/v2/models/nameorigin")
    call(app, "GET", "/nowhere")

    text = call(app, "GET", "/metrics").text
    assert 'route="/v2/models/<model>"' in text
    assert 'route="unmatched"' in text
