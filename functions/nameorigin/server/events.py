"""HTTP request ⇄ API Gateway REST (v1) proxy event, so the Lambda resolver serves plain HTTP.

The event carries exactly what API Gateway's proxy integration would put in it, so the resolver
cannot tell the two front doors apart and answers both the same way.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

#: API Gateway refuses larger payloads before the function runs; the adapter does the same.
API_GATEWAY_PAYLOAD_LIMIT = 10 * 1024 * 1024
#: Header a mesh or client may set; reused as the event's request id so logs correlate.
REQUEST_ID_HEADER = "x-request-id"


@dataclass(frozen=True)
class HttpRequest:
    """The parts of an ASGI HTTP request that the event needs."""

    method: str
    #: Percent-decoded, as ASGI servers give it and API Gateway passes it on.
    path: str
    query_string: bytes
    headers: list[tuple[str, str]]
    body: bytes
    client_ip: str = "127.0.0.1"


@dataclass(frozen=True)
class HttpResponse:
    """A resolver answer ready to be sent over ASGI."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _multi(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def _query_pairs(query_string: bytes) -> list[tuple[str, str]]:
    """The query's pairs, blanks kept; most requests have no query, and skip the parser."""
    if not query_string:
        return []
    return parse_qsl(query_string.decode("utf-8", "replace"), keep_blank_values=True)


def _body_field(body: bytes) -> tuple[str | None, bool]:
    """API Gateway passes text bodies as text and anything else base64-encoded."""
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def request_id_of(request: HttpRequest) -> str:
    """The caller's ``x-request-id`` when it sent one, else a fresh id."""
    for key, value in request.headers:
        if key.lower() == REQUEST_ID_HEADER and value:
            return value
    return str(uuid.uuid4())


def to_proxy_event(request: HttpRequest, request_id: str) -> dict[str, Any]:
    """The API Gateway REST proxy event (``/{proxy+}`` resource) for one HTTP request."""
    multi_headers = _multi(request.headers)
    multi_query = _multi(_query_pairs(request.query_string))
    body, is_base64 = _body_field(request.body)
    path = request.path or "/"  # ASGI has already percent-decoded it, as API Gateway does
    user_agent = multi_headers.get("user-agent", [""])[-1]
    now = time.time()
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": request.method.upper(),
        "headers": {key: values[-1] for key, values in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {key: values[-1] for key, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": path.lstrip("/")} if path != "/" else None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "knative",
            "resourceId": "knative",
            "resourcePath": "/{proxy+}",
            "httpMethod": request.method.upper(),
            "path": path,
            "protocol": "HTTP/1.1",
            "stage": "knative",
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": request.client_ip, "userAgent": user_agent},
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def from_proxy_result(result: Mapping[str, Any]) -> HttpResponse:
    """Turn the resolver's proxy result (status, headers, body) back into HTTP."""
    headers: list[tuple[str, str]] = []
    seen: set[str] = set()
    for key, values in (result.get("multiValueHeaders") or {}).items():
        seen.add(key.lower())
        headers.extend((key, str(value)) for value in values)
    for key, value in (result.get("headers") or {}).items():
        if key.lower() not in seen:
            headers.append((key, str(value)))
    raw_body = result.get("body") or ""
    body = (
        base64.b64decode(raw_body)
        if result.get("isBase64Encoded")
        else str(raw_body).encode("utf-8")
    )
    headers = [(key, value) for key, value in headers if key.lower() != "content-length"]
    headers.append(("content-length", str(len(body))))
    return HttpResponse(status=int(result.get("statusCode", 200)), headers=headers, body=body)
