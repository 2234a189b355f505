"""The ASGI app uvicorn serves: every API route goes to the Lambda resolver, unchanged.

Only ``/metrics`` and the CloudEvents endpoint are answered here: neither exists behind API
Gateway. Everything else becomes an API Gateway proxy event for the shared resolver
(``nameorigin.routes.resolver``), built with this process's settings and Prometheus telemetry.
Small requests are answered on the event loop; large bodies and CloudEvents in low-priority batch
processes (``nameorigin.server.offload``), so a single name never waits behind a batch.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeVar

from nameorigin.config import Settings
from nameorigin.core.model_store import ModelStore
from nameorigin.routes.resolver import create_resolver
from nameorigin.routes.telemetry import UNMATCHED
from nameorigin.server import LOG_FORMAT
from nameorigin.server.cloudevents import CloudEventsEndpoint
from nameorigin.server.events import (
    API_GATEWAY_PAYLOAD_LIMIT,
    HttpRequest,
    HttpResponse,
)
from nameorigin.server.metrics import PrometheusTelemetry
from nameorigin.server.offload import BatchProcesses, replay
from nameorigin.server.resolving import ProxyResolver, json_response, resolve_request

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

logger = logging.getLogger("nameorigin.server")
T = TypeVar("T")

METRICS_PATH = "/metrics"
CLOUDEVENTS_PATH = "/cloudevents"
#: Bodies up to this size (a name, a few dozen names: well under a millisecond of work) are
#: resolved on the event loop; larger ones in a batch process.
INLINE_BODY_LIMIT = 1024


class CloudEventHandler(Protocol):
    """Answers one CloudEvents request (see ``nameorigin.server.cloudevents``)."""

    def __call__(self, request: HttpRequest) -> HttpResponse: ...


class RequestTooLargeError(Exception):
    """The body is over API Gateway's payload limit."""


class ClientGoneError(Exception):
    """The client disconnected before sending its whole body."""


class NameOriginHttpApp:
    """ASGI app: lifespan loads the model in the background; requests go to the resolver."""

    def __init__(
        self,
        models: ModelStore,
        resolver: ProxyResolver,
        *,
        metrics: PrometheusTelemetry | None = None,
        cloudevents: CloudEventHandler | None = None,
        batches: BatchProcesses | None = None,
    ) -> None:
        self.models = models
        self.settings = models.settings
        self.resolver = resolver
        self.metrics = metrics or PrometheusTelemetry()
        self.cloudevents = cloudevents
        # Powertools keeps the current event in class attributes: one resolver call at a time per
        # process. Only the event loop calls this process's resolver (small requests: under a
        # millisecond each); large bodies and CloudEvents go to the batch processes, which have
        # resolvers of their own. Without them (tests), CloudEvents run in a thread and every
        # API request on the event loop.
        self.batches = batches
        self._cloudevents_executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="cloudevents"
        )
        self._loader: threading.Thread | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    # -- lifespan ---------------------------------------------------------------------------

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start_model_loading()
                if self.settings.http_workers > 1 and self._loader is not None:
                    # Siblings share the socket and a worker accepts only after startup: waiting
                    # here keeps a still-loading worker from answering 503 next to a ready one.
                    await asyncio.get_running_loop().run_in_executor(None, self._loader.join)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                # Work already running finishes (its request may have been cut off by the drain
                # timeout, but a half-done batch must not be abandoned mid-upload); queued work is
                # dropped: its requests were cancelled with the drain timeout.
                loop = asyncio.get_running_loop()
                if self.batches is not None:
                    await loop.run_in_executor(None, self.batches.shutdown)
                await loop.run_in_executor(None, self._stop_cloudevents_thread)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _stop_cloudevents_thread(self) -> None:
        self._cloudevents_executor.shutdown(wait=True, cancel_futures=True)

    def start_model_loading(self) -> None:
        """Load the model off the event loop, so liveness answers while it loads; start the
        batch processes meanwhile (they load their own copy)."""
        self._loader = threading.Thread(target=self._load_model, name="model-loader", daemon=True)
        self._loader.start()
        if self.batches is not None:
            self.batches.warm()

    def _load_model(self) -> None:
        started = time.perf_counter()
        try:
            classifier = self.models.load()
        except Exception as error:  # any failure means: never ready, and say why
            logger.error(
                "model failed to load from %s; readiness stays false: %s: %s",
                self.settings.model_dir,
                type(error).__name__,
                error,
            )
            return
        logger.info(
            "model %s loaded from %s in %.2f s; ready",
            classifier.manifest.model_version,
            self.settings.model_dir,
            time.perf_counter() - started,
        )

    # -- requests ---------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        method = str(scope["method"]).upper()
        path = str(scope["path"])
        route = path
        try:
            if path == METRICS_PATH and method == "GET":
                response = HttpResponse(
                    200, [("content-type", self.metrics.content_type)], self.metrics.render()
                )
            else:
                with self.metrics.in_flight.track_inprogress():
                    request = await self._read_request(scope, receive, method, path)
                    if path == CLOUDEVENTS_PATH and self.cloudevents is not None:
                        response = await self._cloudevent(request, self.cloudevents)
                    else:
                        response, route = await self._resolve(request)
        except RequestTooLargeError:
            route = UNMATCHED
            response = json_response(
                413,
                {"message": f"Request Too Long: the limit is {API_GATEWAY_PAYLOAD_LIMIT} bytes"},
            )
            self.metrics.error(route, "too_large", 413)
        except ClientGoneError:
            return
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [
                    (key.encode("latin-1"), value.encode("latin-1"))
                    for key, value in response.headers
                ],
            }
        )
        await send({"type": "http.response.body", "body": response.body})
        self.metrics.observe_request(route, method, response.status, time.perf_counter() - started)

    async def _read_request(
        self, scope: Scope, receive: Receive, method: str, path: str
    ) -> HttpRequest:
        headers = [
            (key.decode("latin-1"), value.decode("latin-1")) for key, value in scope["headers"]
        ]
        declared = next((value for key, value in headers if key == "content-length"), "0")
        if declared.isdigit() and int(declared) > API_GATEWAY_PAYLOAD_LIMIT:
            raise RequestTooLargeError
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGoneError
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > API_GATEWAY_PAYLOAD_LIMIT:
                raise RequestTooLargeError
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        client = scope.get("client")
        return HttpRequest(
            method=method,
            path=path,
            query_string=scope.get("query_string", b""),
            headers=headers,
            body=b"".join(chunks),
            client_ip=client[0] if client else "127.0.0.1",
        )

    async def _cloudevent(self, request: HttpRequest, handler: CloudEventHandler) -> HttpResponse:
        if self.batches is None:
            future: Future[HttpResponse] = self._cloudevents_executor.submit(handler, request)
            return await asyncio.wrap_future(future)
        try:
            return await asyncio.wrap_future(self.batches.cloudevent(request))
        except BrokenProcessPool as error:
            return self.batches.restart_after(error)

    async def _resolve(self, request: HttpRequest) -> tuple[HttpResponse, str]:
        """Small requests on the event loop; large ones in a batch process."""
        if self.batches is None or len(request.body) <= INLINE_BODY_LIMIT:
            return self.resolve_sync(request)
        try:
            response, route, events = await asyncio.wrap_future(self.batches.resolve(request))
        except BrokenProcessPool as error:
            return self.batches.restart_after(error), self.resolver.route_name(request.path)
        replay(events, self.metrics)
        return response, route

    def resolve_sync(self, request: HttpRequest) -> tuple[HttpResponse, str]:
        """One request through this process's resolver (see ``resolve_request``)."""
        return resolve_request(self.resolver, request, self.metrics)


def create_app(
    settings: Settings,
    models: ModelStore | None = None,
    resolver: ProxyResolver | None = None,
) -> NameOriginHttpApp:
    """The app ``python -m nameorigin.server`` serves: the API resolver plus CloudEvents, with
    large bodies in batch processes.

    The resolver enforces these settings' limits and reports into this app's ``/metrics``.
    """
    models = models or ModelStore(settings)
    metrics = PrometheusTelemetry()
    return NameOriginHttpApp(
        models,
        resolver or create_resolver(settings, models, metrics),
        metrics=metrics,
        cloudevents=CloudEventsEndpoint(settings, models),
        batches=BatchProcesses(settings) if settings.batch_processes else None,
    )


def app_from_environ() -> NameOriginHttpApp:
    """The app factory each uvicorn worker process calls (settings from its environment).

    A worker is a fresh process: it configures logging itself (a no-op when already done).
    """
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    return create_app(Settings.from_environ())
