"""Large bodies (10,000-name batches, CloudEvents) are answered in low-priority child processes.

Why: a batch's Python work (validation, normalization, results, JSON) holds the GIL for hundreds of
milliseconds, so in the same process every single-name request would wait behind it, threads or
not. Each HTTP worker therefore hands large bodies to a ``ProcessPoolExecutor`` whose processes run
the *same* resolver (``create_resolver``: routes defined once, identical answers) at a higher
niceness: the kernel gives the cores to small requests first and lets batches use what is left.

The children's telemetry is recorded and replayed into the worker's Prometheus metrics, so
``/metrics`` counts batch names as before.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from nameorigin.config import Settings
from nameorigin.core.model_store import ModelStore
from nameorigin.routes.resolver import NameOriginResolver, create_resolver
from nameorigin.routes.telemetry import Telemetry
from nameorigin.server import LOG_FORMAT
from nameorigin.server.cloudevents import CloudEventsEndpoint
from nameorigin.server.events import HttpRequest, HttpResponse
from nameorigin.server.resolving import json_response, resolve_request

logger = logging.getLogger("nameorigin.server")

#: How much lower the children's CPU priority is (CFS weight 110 against 1024 at niceness 0).
BATCH_NICENESS = 10

#: One recorded ``Telemetry`` call: the method's name and its arguments.
TelemetryEvent = tuple[str, tuple[Any, ...]]


@dataclass
class RecordingTelemetry:
    """``Telemetry`` that keeps the calls of one request, to replay them in the parent."""

    events: list[TelemetryEvent] = field(default_factory=list)

    def request_finished(self, route: str, method: str, status: int, seconds: float) -> None:
        """Record."""
        self.events.append(("request_finished", (route, method, status, seconds)))

    def names_classified(self, route: str, count: int) -> None:
        """Record."""
        self.events.append(("names_classified", (route, count)))

    def model_latency(self, route: str, seconds: float) -> None:
        """Record."""
        self.events.append(("model_latency", (route, seconds)))

    def error(self, route: str, kind: str, status: int) -> None:
        """Record."""
        self.events.append(("error", (route, kind, status)))

    def drain(self) -> list[TelemetryEvent]:
        """The calls so far; forgets them."""
        events, self.events = self.events, []
        return events


def replay(events: list[TelemetryEvent], telemetry: Telemetry) -> None:
    """Make the same calls on ``telemetry``."""
    for method, args in events:
        getattr(telemetry, method)(*args)


@dataclass
class _Child:
    """What one child process holds: its own model, resolver and CloudEvents endpoint."""

    resolver: NameOriginResolver
    cloudevents: CloudEventsEndpoint
    telemetry: RecordingTelemetry


_child: _Child | None = None


def _start_child(settings: Settings) -> None:
    """Initializer of each child: lower its priority, load the model, build the resolver."""
    global _child  # noqa: PLW0603  # one per process: this IS the process's state
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C: the worker above shuts the pool down
    os.nice(BATCH_NICENESS)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    models = ModelStore(settings)
    telemetry = RecordingTelemetry()
    _child = _Child(
        create_resolver(settings, models, telemetry),
        CloudEventsEndpoint(settings, models),
        telemetry,
    )
    try:
        models.load()
    except Exception:  # answered as 503 with the reason, as in the parent
        logger.exception("batch process: model failed to load")


def _ping() -> int:
    return os.getpid()


def _resolve(request: HttpRequest) -> tuple[HttpResponse, str, list[TelemetryEvent]]:
    assert _child is not None, "the pool's initializer did not run"
    response, route = resolve_request(_child.resolver, request, _child.telemetry)
    return response, route, _child.telemetry.drain()


def _cloudevent(request: HttpRequest) -> HttpResponse:
    assert _child is not None, "the pool's initializer did not run"
    return _child.cloudevents(request)


class BatchProcesses:
    """The low-priority processes of one HTTP worker; started on first use or by ``warm``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.settings.batch_processes,
                # spawn: the parent runs threads (event loop, loader, onnxruntime): never fork it
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_child,
                initargs=(self.settings,),
            )
        return self._pool

    def warm(self) -> Future[int]:
        """Start a child now (imports + model load) so the first batch does not wait for it."""
        return self._executor().submit(_ping)

    def resolve(self, request: HttpRequest) -> Future[tuple[HttpResponse, str, list[Any]]]:
        """Resolve ``request`` in a child; the result carries the child's telemetry calls."""
        return self._executor().submit(_resolve, request)

    def cloudevent(self, request: HttpRequest) -> Future[HttpResponse]:
        """Answer one CloudEvents request in a child."""
        return self._executor().submit(_cloudevent, request)

    def restart_after(self, error: BrokenProcessPool) -> HttpResponse:
        """A child died (killed, out of memory): start afresh on next use and say 503."""
        logger.error("a batch process died: %s; starting a new one", error)
        self._pool = None
        return json_response(503, {"message": "the batch process stopped; retry"})

    def shutdown(self) -> None:
        """Let running work finish, drop queued work, stop the children."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
