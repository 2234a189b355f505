"""HTTP ⇄ API Gateway proxy event translation: what API Gateway's proxy integration would send."""

from __future__ import annotations

import base64
import json

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from nameorigin.lambda_context import LocalLambdaContext
from nameorigin.server.events import (
    HttpRequest,
    from_proxy_result,
    request_id_of,
    to_proxy_event,
)


def request(**overrides: object) -> HttpRequest:
    fields: dict[str, object] = {
        "method": "post",
        "path": "/predict",
        "query_string": b"",
        "headers": [("content-type", "application/json"), ("host", "example")],
        "body": b'{"names": ["Jordan"]}',
    }
    fields.update(overrides)
    return HttpRequest(**fields)  # type: ignore[arg-type]


def test_a_json_request_becomes_a_proxy_event_powertools_reads() -> None:
    event = APIGatewayProxyEvent(to_proxy_event(request(), "req-1"))
    assert event.http_method == "POST"
    assert event.path == "/predict"
    assert event.headers["Content-Type"] == "application/json"  # case-insensitive, like API GW
    assert event.json_body == {"names": ["Jordan"]}
    assert event.is_base64_encoded is False
    assert event.request_context.request_id == "req-1"
    assert not event.query_string_parameters


def test_repeated_query_parameters_and_headers_keep_every_value() -> None:
    raw = to_proxy_event(
        request(
            method="GET",
            query_string=b"top_k=2&name=a&name=b%20c&empty=",
            headers=[("accept", "a/b"), ("accept", "c/d")],
            body=b"",
        ),
        "req-2",
    )
    assert raw["multiValueQueryStringParameters"] == {
        "top_k": ["2"],
        "name": ["a", "b c"],
        "empty": [""],
    }
    assert raw["queryStringParameters"] == {"top_k": "2", "name": "b c", "empty": ""}
    assert raw["multiValueHeaders"]["accept"] == ["a/b", "c/d"]
    assert raw["body"] is None


def test_a_binary_body_is_base64_encoded_as_api_gateway_does() -> None:
    body = bytes([0xFF, 0xFE, 0x00, 0x80])
    raw = to_proxy_event(request(body=body), "req-3")
    assert raw["isBase64Encoded"] is True
    assert base64.b64decode(raw["body"]) == body


def test_the_already_decoded_path_is_not_decoded_twice() -> None:
    # uvicorn turns /v2/models/a%2520b into "/v2/models/a%20b"; API Gateway would pass the same.
    raw = to_proxy_event(request(path="/v2/models/a%20b/ready"), "req-4")
    assert raw["path"] == "/v2/models/a%20b/ready"
    assert raw["requestContext"]["path"] == raw["path"]


def test_a_utf8_query_value_survives() -> None:
    raw = to_proxy_event(request(query_string="name=Dvořák&x=%C3%BC".encode()), "req-5")
    assert raw["queryStringParameters"] == {"name": "Dvořák", "x": "ü"}


def test_the_callers_request_id_is_kept_else_a_fresh_one_is_made() -> None:
    assert request_id_of(request(headers=[("x-request-id", "abc")])) == "abc"
    first, second = request_id_of(request()), request_id_of(request())
    assert first != second and len(first) == 36


def test_a_proxy_result_becomes_http_with_every_header_and_a_true_length() -> None:
    response = from_proxy_result(
        {
            "statusCode": 422,
            "headers": {"Content-Type": "application/json", "Content-Length": "999"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": json.dumps({"error": "bad ñame"}, ensure_ascii=False),
            "isBase64Encoded": False,
        }
    )
    assert response.status == 422
    assert ("Set-Cookie", "a=1") in response.headers and ("Set-Cookie", "b=2") in response.headers
    assert ("content-length", str(len(response.body))) in response.headers
    assert not any(value == "999" for _, value in response.headers)
    assert json.loads(response.body) == {"error": "bad ñame"}


def test_a_base64_result_is_decoded() -> None:
    payload = b"\x00\x01binary"
    response = from_proxy_result(
        {"statusCode": 200, "body": base64.b64encode(payload).decode(), "isBase64Encoded": True}
    )
    assert response.body == payload


def test_the_lambda_context_counts_down() -> None:
    context = LocalLambdaContext(aws_request_id="r")
    assert 0 < context.get_remaining_time_in_millis() <= 300_000
