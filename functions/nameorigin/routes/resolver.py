"""The one Powertools resolver both HTTP doors share: every router, the error shape, OpenAPI.

The Lambda API entry point (``nameorigin.lambda_api``) and the Knative server
(``nameorigin.server``) each call ``create_resolver`` once with their own dependencies, then feed it
API Gateway REST (v1) proxy events, so routes, status codes and JSON bodies are identical behind
API Gateway and behind Knative. Building a resolver does NOT load the model: routes fetch it from
the model store and answer 503 (JSON) while there is none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from time import perf_counter
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, Route
from aws_lambda_powertools.utilities.typing import LambdaContext

from nameorigin.config import Settings
from nameorigin.core.model_store import ModelStore
from nameorigin.routes import errors, legacy, metadata, predict, v2
from nameorigin.routes.dependencies import Dependencies
from nameorigin.routes.proxy_event import RestProxyEvent
from nameorigin.routes.schemas import ErrorResponse
from nameorigin.routes.telemetry import UNMATCHED, NoTelemetry, Telemetry

#: The routers, in the order their routes are registered (and listed in the OpenAPI document).
ROUTERS = (legacy, predict, metadata, v2)
OPENAPI_PATH = "/openapi.json"


class NameOriginResolver(APIGatewayRestResolver):
    """The Powertools REST resolver, plus route names for telemetry and one report per request."""

    def __init__(self, deps: Dependencies) -> None:
        super().__init__(
            enable_validation=True,
            json_body_deserializer=errors.json_body_parser(deps.settings.max_body_bytes),
        )
        self.deps = deps
        # Only JSON bodies reach Powertools' parsers (errors.JsonOnlyRequestValidation).
        self._request_validation_middleware = errors.JsonOnlyRequestValidation()  # type: ignore[no-untyped-call]

    @staticmethod
    def _compile_regex(rule: str, base_regex: str = r"^{}/*\Z") -> re.Pattern[str]:
        """Powertools' route pattern (trailing slashes allowed) anchored with ``\\Z``.

        Powertools anchors with ``$``, which also matches before a final newline: ``/v2%0A``
        answered as ``/v2`` and the 404/405 decision saw a path no route template has.
        """
        pattern: re.Pattern[str] = ApiGatewayResolver._compile_regex(rule, r"^{}/*\Z")
        return pattern

    def _to_proxy_event(self, event: dict[str, Any]) -> RestProxyEvent:
        """The event Powertools reads during one request (``RestProxyEvent``: headers cached)."""
        return RestProxyEvent(event, self._json_body_deserializer)

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        """Route the event (see ``APIGatewayRestResolver.resolve``) and report the outcome."""
        started = perf_counter()
        response = super().resolve(event, context)
        self.deps.telemetry.request_finished(
            self.route_name(str(event.get("path") or "")),
            str(event.get("httpMethod") or "").upper(),
            int(response.get("statusCode", 0)),
            perf_counter() - started,
        )
        return response

    def invalid_event(self, problem: str) -> dict[str, Any]:
        """The 400 proxy result for an event API Gateway would never send (``event_problem``)."""
        self.deps.telemetry.error(UNMATCHED, "invalid_event", 400)
        self.deps.telemetry.request_finished(UNMATCHED, "", 400, 0.0)
        body = ErrorResponse(error=f"not an API Gateway REST proxy event: {problem}")
        return {
            "statusCode": 400,
            "body": body.model_dump_json(),
            "isBase64Encoded": False,
            "multiValueHeaders": {"Content-Type": [content_types.APPLICATION_JSON]},
        }

    def _routes(self) -> list[Route]:
        # Powertools keeps its compiled routes here; reading them beats a second route table.
        return self._static_routes + self._dynamic_routes

    def route_name(self, path: str) -> str:
        """The template of the route serving ``path`` (any method), or ``UNMATCHED``.

        What metrics label requests with, so label sets stay small (``/v2/models/<model>``).
        """
        for route in self._routes():
            if route.rule.match(path):
                return str(route.path)
        return UNMATCHED

    def allowed_methods(self, path: str) -> list[str]:
        """The methods some route serves on ``path`` (empty: no route has this path)."""
        return sorted({route.method for route in self._routes() if route.rule.match(path)})

    def current_route_name(self) -> str:
        """The route of the request being resolved (the one Powertools matched, if any)."""
        matched = self.context.get("_route")
        if matched is not None and any(matched is route for route in self._routes()):
            return str(matched.path)
        return self.route_name(self.current_event.path)


def create_resolver(
    settings: Settings, models: ModelStore, telemetry: Telemetry | None = None
) -> NameOriginResolver:
    """A resolver serving every route with these settings' limits and this model store."""
    deps = Dependencies(settings, models, telemetry or NoTelemetry())
    app = NameOriginResolver(deps)
    for router in ROUTERS:
        app.include_router(router.create_router(deps))
    document: list[str] = []  # generated on first request: it costs more than a cold start should

    @app.get(OPENAPI_PATH, include_in_schema=False)
    def openapi_json() -> Response[str]:
        """This API's OpenAPI document."""
        if not document:
            document.append(openapi_document(app))
        return Response(200, content_types.APPLICATION_JSON, document[0])

    errors.install(app, deps.telemetry)
    return app


def openapi_document(app: APIGatewayRestResolver | None = None) -> str:
    """The OpenAPI 3.1 document Powertools generates from the routes (also docs/openapi.json)."""
    if app is None:
        settings = Settings.from_environ({})
        app = create_resolver(settings, ModelStore(settings))
    document = json.loads(
        app.get_openapi_json_schema(
            title="nameorigin",
            version=v2.API_VERSION,
            description=(
                "Which language a surname comes from. The same API is served by the "
                "API Gateway function and the Knative service. Errors are JSON: "
                '{"error": "<sentence>", "detail": [{"loc", "msg", "type"}]}.'
            ),
        )
    )
    return json.dumps(errors.document_method_not_allowed(document), indent=2)
