"""Every error answer of the API: one JSON shape, the right status, decided inside the resolver.

Each client mistake becomes a 4xx with ``{"error": "<sentence>", "detail": [{"loc", "msg",
"type"}, ...]}`` (``detail`` as FastAPI had it; ``error`` as the Open Inference Protocol wants).
Everything is decided here, in the resolver, not in API Gateway, so the Knative front door (which
feeds the same resolver) answers with the same status and body.
"""

from __future__ import annotations

import binascii
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from nameorigin.core.model_store import ModelNotReadyError
from nameorigin.routes.schemas import ErrorDetail, ErrorResponse

if TYPE_CHECKING:
    from nameorigin.routes.resolver import NameOriginResolver
    from nameorigin.routes.telemetry import Telemetry

logger = logging.getLogger(__name__)

Location = Sequence[str | int]


class ApiError(Exception):
    """A request the API refuses; raised by routes, answered by ``error_response``."""

    def __init__(
        self,
        status: HTTPStatus,
        kind: str,
        message: str,
        detail: Iterable[ErrorDetail] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
        self.detail = list(detail)
        self.headers = headers or {}


class PayloadTooLargeError(ApiError):
    """The body is larger than ``NAMEORIGIN_MAX_BODY_BYTES``."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "payload_too_large",
            f"request body is {size} bytes; the limit is {limit} bytes",
        )


def invalid(loc: Location, msg: str, kind: str) -> ErrorDetail:
    """One entry of ``detail``."""
    return ErrorDetail(loc=list(loc), msg=msg, type=kind)


def unprocessable(details: Sequence[ErrorDetail]) -> ApiError:
    """422: the JSON is well formed but its content cannot be served."""
    summary = "; ".join(f"{'.'.join(map(str, d.loc))}: {d.msg}" for d in details[:5])
    more = f" (and {len(details) - 5} more)" if len(details) > 5 else ""
    return ApiError(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "validation_error",
        f"invalid request: {summary}{more}",
        details,
    )


def json_body_parser(max_body_bytes: int) -> Callable[[str], Any]:
    """Powertools' body deserializer with the size limit in front of ``json.loads``.

    Powertools parses the body before any middleware runs, so the limit is enforced here, before
    the (possibly huge) document is parsed; ``JSONDecodeError`` becomes a 400 below.
    """

    def parse(text: str) -> Any:
        size = len(text.encode("utf-8"))
        if size > max_body_bytes:
            raise PayloadTooLargeError(size, max_body_bytes)
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise  # Powertools turns it into the 400 below, with the position
        except RecursionError as error:
            raise ApiError(
                HTTPStatus.BAD_REQUEST,
                "invalid_json",
                "request body nests JSON arrays or objects too deeply",
                [invalid(["body"], "nested too deeply", "json_invalid")],
            ) from error
        except ValueError as error:  # e.g. an integer of more than 4,300 digits
            raise ApiError(
                HTTPStatus.BAD_REQUEST,
                "invalid_json",
                f"request body is JSON this service cannot read: {error}",
                [invalid(["body"], str(error), "json_invalid")],
            ) from error

    return parse


class JsonOnlyRequestValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, refusing every body that is not JSON before parsing it.

    Powertools also parses form and multipart bodies, and raises a bare ``ValueError`` (a 500)
    for ``multipart/form-data`` without a boundary. No route here reads anything but JSON, so any
    other declared content type is a 415 before a parser sees the body.
    """

    def _get_body(self, app: Any) -> dict[str, Any]:
        content_type = app.current_event.headers.get("content-type", "").strip()
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type and media_type != content_types.APPLICATION_JSON:
            raise RequestUnsupportedContentType(
                "Unsupported content type",
                errors=[{"type": "unsupported_content_type", "loc": ("body",)}],
            )
        body: dict[str, Any] = super()._get_body(app)
        return body


#: What each error status means, for the OpenAPI document (the body is always ErrorResponse).
ERROR_MEANINGS = {
    400: "The body is not JSON (or not UTF-8).",
    404: "Unknown model name.",
    405: "The path is served, but not with this method (the Allow header lists the methods).",
    413: "The body is larger than NAMEORIGIN_MAX_BODY_BYTES.",
    415: "The body is not application/json.",
    422: "The JSON does not describe a valid request (details in `detail`).",
    503: "The model is not loaded (yet, or it failed to load).",
}
#: The errors of every route that reads a body and needs the model.
BODY_ERRORS = (400, 413, 415, 422, 503)


def responses(success: str, *error_statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI ``responses``: 200 with the route's return schema, plus these error statuses."""
    documented: dict[int, dict[str, Any]] = {200: {"description": success}}
    for status in error_statuses:
        documented[status] = {
            "description": ERROR_MEANINGS[status],
            "content": {content_types.APPLICATION_JSON: {"model": ErrorResponse}},
        }
    return cast(dict[int, OpenAPIResponse], documented)


def document_method_not_allowed(document: dict[str, Any]) -> dict[str, Any]:
    """Add the 405 every operation can answer (``install``'s not-found handler) to ``document``.

    Any path a route serves answers 405 to the other methods; the document says so everywhere.
    """
    error_schema = {"$ref": "#/components/schemas/ErrorResponse"}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.setdefault("responses", {}).setdefault(
                "405",
                {
                    "description": ERROR_MEANINGS[405],
                    "content": {content_types.APPLICATION_JSON: {"schema": error_schema}},
                },
            )
    return document


def error_response(error: ApiError) -> Response[str]:
    """The JSON answer for an ApiError."""
    body = ErrorResponse(error=error.message, detail=error.detail)
    return Response(
        status_code=int(error.status),
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump_json(),
        headers=error.headers,
    )


# -- translating what Powertools raises ------------------------------------------------------


def _from_validation_error(error: RequestValidationError) -> ApiError:
    errors = error.errors()
    decode_errors = [e for e in errors if e.get("type") == "json_invalid"]
    if decode_errors:
        reason = decode_errors[0].get("ctx", {}).get("error", "invalid JSON")
        position = decode_errors[0].get("loc", ("body", 0))[-1]
        return ApiError(
            HTTPStatus.BAD_REQUEST,
            "invalid_json",
            f"request body is not valid JSON: {reason} (at character {position})",
            [invalid(["body"], str(reason), "json_invalid")],
        )
    details = [
        invalid(
            [part if isinstance(part, int) else str(part) for part in e.get("loc", ())],
            str(e.get("msg", "invalid value")),
            str(e.get("type", "value_error")),
        )
        for e in errors
    ]
    return unprocessable(details)


def install(app: NameOriginResolver, telemetry: Telemetry) -> None:
    """Register the exception handlers that turn every failure into the JSON error shape.

    Each error is reported to ``telemetry`` under the route the resolver matched; the resolver
    also tells 405 (the path exists with other methods) from 404.
    """

    def answer(error: ApiError) -> Response[str]:
        telemetry.error(app.current_route_name(), error.kind, int(error.status))
        return error_response(error)

    def _api_error(error: ApiError) -> Response[str]:
        return answer(error)

    def _validation(error: RequestValidationError) -> Response[str]:
        return answer(_from_validation_error(error))

    def _undecodable(error: Exception) -> Response[str]:
        return answer(
            ApiError(
                HTTPStatus.BAD_REQUEST,
                "invalid_body",
                "request body is not UTF-8 text (or not valid base64 when marked so)",
                [invalid(["body"], str(error), "body_decoding")],
            )
        )

    def _content_type(error: RequestUnsupportedContentType) -> Response[str]:
        sent = app.current_event.headers.get("content-type", "")
        return answer(
            ApiError(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                f"content type {sent!r} is not supported; send application/json",
                [invalid(["header", "content-type"], "must be application/json", "content_type")],
            )
        )

    def _not_ready(error: ModelNotReadyError) -> Response[str]:
        return answer(
            ApiError(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "model_not_ready",
                f"the model is not available: {error}",
                headers={"Retry-After": "1"},
            )
        )

    def _not_found(_: NotFoundError) -> Response[str]:
        method = app.current_event.http_method.upper()
        path = app.current_event.path
        methods = app.allowed_methods(path)
        if methods:
            return answer(
                ApiError(
                    HTTPStatus.METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    f"{method} is not allowed on {path}; use {', '.join(methods)}",
                    headers={"Allow": ", ".join(methods)},
                )
            )
        return answer(ApiError(HTTPStatus.NOT_FOUND, "not_found", f"no route serves {path}"))

    def _unexpected(error: Exception) -> Response[str]:
        logger.exception("unhandled error on %s", app.current_route_name())
        return answer(
            ApiError(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "internal server error")
        )

    # Registered by call, not decorator: Powertools' decorators are untyped.
    handlers: list[tuple[type[Exception] | list[type[Exception]], Callable[..., Response[str]]]] = [
        (ApiError, _api_error),
        (RequestValidationError, _validation),
        ([UnicodeDecodeError, binascii.Error], _undecodable),
        (RequestUnsupportedContentType, _content_type),
        (ModelNotReadyError, _not_ready),
        (Exception, _unexpected),
    ]
    for exception, handler in handlers:
        app.exception_handler(exception)(handler)
    app.not_found(_not_found)
