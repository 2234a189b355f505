"""One HTTP request through the shared resolver, as API Gateway's proxy integration would send it.

Used by the HTTP worker for small requests (on its event loop) and by the batch processes for
large ones (``nameorigin.server.offload``): the same function, so both answer alike.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from nameorigin.lambda_context import LocalLambdaContext
from nameorigin.routes.telemetry import Telemetry
from nameorigin.server.events import (
    HttpRequest,
    HttpResponse,
    from_proxy_result,
    request_id_of,
    to_proxy_event,
)

logger = logging.getLogger("nameorigin.server")


class ProxyResolver(Protocol):
    """What the adapter needs from the Powertools resolver: API Gateway event in, result out,
    and the route template of a path (the metrics label)."""

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]: ...

    def route_name(self, path: str) -> str: ...


def json_response(status: int, payload: Mapping[str, Any]) -> HttpResponse:
    """A JSON answer produced by the adapter itself."""
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    headers = [("content-type", "application/json"), ("content-length", str(len(body)))]
    return HttpResponse(status=status, headers=headers, body=body)


def resolve_request(
    resolver: ProxyResolver, request: HttpRequest, telemetry: Telemetry
) -> tuple[HttpResponse, str]:
    """The resolver's answer to ``request`` and the route template it names (for metrics).

    An exception escaping the resolver is API Gateway's 502 for a failed invocation.
    """
    request_id = request_id_of(request)
    event = to_proxy_event(request, request_id)
    route = resolver.route_name(request.path or "/")
    try:
        context = LocalLambdaContext(
            function_name="nameorigin-http",
            aws_request_id=request_id,
            log_group_name="knative",
            log_stream_name="knative",
        )
        result = resolver.resolve(event, context)
    except Exception:
        logger.exception("unhandled error answering %s %s", request.method, request.path)
        telemetry.error(route, "unhandled", 502)
        return json_response(502, {"message": "Internal server error"}), route
    return from_proxy_result(result), route
