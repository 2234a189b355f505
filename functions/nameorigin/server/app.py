"""The ASGI app uvicorn serves: every API route goes to the Lambda resolver, unchanged.

Only ``/metrics`` and the CloudEvents endpoint are answered here: neither exists behind API
Gateway. Everything else becomes an API Gateway proxy event for the shared resolver
(``nameorigin.routes.resolver``), built with this process's settings and Prometheus telemetry.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from nameorigin.config import Settings
from nameorigin.core.model_store import ModelStore
from nameorigin.lambda_context import LocalLambdaContext
from nameorigin.routes.resolver import create_resolver
from nameorigin.routes.telemetry import UNMATCHED
from nameorigin.server.cloudevents import CloudEventsEndpoint
from nameorigin.server.events import (
    API_GATEWAY_PAYLOAD_LIMIT,
    HttpRequest,
    HttpResponse,
    from_proxy_result,
    request_id_of,
    to_proxy_event,
)
from nameorigin.server.metrics import PrometheusTelemetry

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

logger = logging.getLogger("nameorigin.server")
T = TypeVar("T")

METRICS_PATH = "/metrics"
CLOUDEVENTS_PATH = "/cloudevents"
#: Bodies up to this size (a name, a few dozen names) are resolved on the event loop: ~1 ms at most.
INLINE_BODY_LIMIT = 1024


class ProxyResolver(Protocol):
    """What the adapter needs from the Powertools resolver: API Gateway event in, result out,
    and the route template of a path (the metrics label)."""

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]: ...

    def route_name(self, path: str) -> str: ...


class CloudEventHandler(Protocol):
    """Answers one CloudEvents request (see ``nameorigin.server.cloudevents``)."""

    def __call__(self, request: HttpRequest) -> HttpResponse: ...


class RequestTooLargeError(Exception):
    """The body is over API Gateway's payload limit."""


class ClientGoneError(Exception):
    """The client disconnected before sending its whole body."""


def json_response(status: int, payload: Mapping[str, Any]) -> HttpResponse:
    """A JSON answer produced by the adapter itself."""
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    headers = [("content-type", "application/json"), ("content-length", str(len(body)))]
    return HttpResponse(status=status, headers=headers, body=body)


class NameOriginHttpApp:
    """ASGI app: lifespan loads the model in the background; requests go to the resolver."""

    def __init__(
        self,
        models: ModelStore,
        resolver: ProxyResolver,
        *,
        metrics: PrometheusTelemetry | None = None,
        cloudevents: CloudEventHandler | None = None,
    ) -> None:
        self.models = models
        self.settings = models.settings
        self.resolver = resolver
        self.metrics = metrics or PrometheusTelemetry()
        self.cloudevents = cloudevents
        # Powertools keeps the current event in class attributes: one resolver call at a time,
        # whichever thread makes it. Small requests run on the event loop when the resolver is free
        # (no thread hop: about a third more single-name throughput); large ones in a worker
        # thread, so a 10,000-name batch never stalls probes, /metrics or accepting connections.
        self._resolver_lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="resolver")
        # Batches from the queue do S3 I/O for seconds: their own thread, never the API's.
        self._batch_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cloudevents")
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
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                # Work already running finishes (its request may have been cut off by the drain
                # timeout, but a half-done batch must not be abandoned mid-upload); queued work is
                # dropped: its requests were cancelled with the drain timeout.
                for executor in (self._executor, self._batch_executor):
                    stop = functools.partial(executor.shutdown, wait=True, cancel_futures=True)
                    await asyncio.get_running_loop().run_in_executor(None, stop)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def start_model_loading(self) -> None:
        """Load the model off the event loop, so liveness answers while it loads."""
        self._loader = threading.Thread(target=self._load_model, name="model-loader", daemon=True)
        self._loader.start()

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
                        response = await self._in_thread(
                            self._batch_executor, self.cloudevents, request
                        )
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

    @staticmethod
    async def _in_thread(
        executor: ThreadPoolExecutor, function: Callable[[HttpRequest], T], request: HttpRequest
    ) -> T:
        return await asyncio.get_running_loop().run_in_executor(executor, function, request)

    async def _resolve(self, request: HttpRequest) -> tuple[HttpResponse, str]:
        """Inline when small and the resolver is free, else in the resolver thread."""
        if len(request.body) <= INLINE_BODY_LIMIT and self._resolver_lock.acquire(blocking=False):
            try:
                return self.resolve_sync(request)
            finally:
                self._resolver_lock.release()
        return await self._in_thread(self._executor, self._resolve_locked, request)

    def _resolve_locked(self, request: HttpRequest) -> tuple[HttpResponse, str]:
        with self._resolver_lock:
            return self.resolve_sync(request)

    def resolve_sync(self, request: HttpRequest) -> tuple[HttpResponse, str]:
        """One request through the resolver, as API Gateway's proxy integration would send it.

        Returns the answer and the route template the resolver names for its path (for metrics).
        """
        request_id = request_id_of(request)
        event = to_proxy_event(request, request_id)
        route = self.resolver.route_name(request.path or "/")
        try:
            context = LocalLambdaContext(
                function_name="nameorigin-http",
                aws_request_id=request_id,
                log_group_name="knative",
                log_stream_name="knative",
            )
            result = self.resolver.resolve(event, context)
        except Exception:
            # On Lambda an unhandled error fails the invocation and API Gateway answers 502.
            logger.exception("unhandled error answering %s %s", request.method, request.path)
            self.metrics.error(route, "unhandled", 502)
            return json_response(502, {"message": "Internal server error"}), route
        return from_proxy_result(result), route


def create_app(
    settings: Settings,
    models: ModelStore | None = None,
    resolver: ProxyResolver | None = None,
) -> NameOriginHttpApp:
    """The app ``python -m nameorigin.server`` serves: the API resolver plus CloudEvents.

    The resolver enforces these settings' limits and reports into this app's ``/metrics``.
    """
    models = models or ModelStore(settings)
    metrics = PrometheusTelemetry()
    return NameOriginHttpApp(
        models,
        resolver or create_resolver(settings, models, metrics),
        metrics=metrics,
        cloudevents=CloudEventsEndpoint(settings, models),
    )
