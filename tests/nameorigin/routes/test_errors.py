"""Error helpers: the body-size guard in front of the JSON parser, route names, 422 text."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest

from nameorigin.routes.errors import (
    ApiError,
    PayloadTooLargeError,
    error_response,
    invalid,
    json_body_parser,
    unprocessable,
)

from .conftest import MakeResolver


def test_parser_refuses_bodies_over_the_limit_in_utf8_bytes() -> None:
    parse = json_body_parser(max_body_bytes=11)

    assert parse('{"a": "é"}') == {"a": "é"}  # 10 characters, 11 bytes
    with pytest.raises(PayloadTooLargeError, match="13 bytes; the limit is 11"):
        parse('{"a": "éé"}')  # 11 characters, 13 bytes


def test_parser_turns_deep_nesting_into_a_400() -> None:
    with pytest.raises(ApiError) as caught:
        json_body_parser(10_000_000)("[" * 100_000)

    assert caught.value.status == HTTPStatus.BAD_REQUEST


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/v2/models/nameorigin", "/v2/models/<model>"),
        ("/v2/models/a/b", "unmatched"),
        ("/openapiXjson", "/openapi.json"),  # Powertools serves it: the label must say so
        ("/check_service/", "/check_service"),
    ],
)
def test_errors_are_named_after_the_route_powertools_matches(
    path: str, route: str, make_resolver: MakeResolver
) -> None:
    assert make_resolver().route_name(path) == route


def test_unprocessable_summarizes_the_first_details_and_counts_the_rest() -> None:
    details = [invalid(["body", "names", i], "bad", "empty") for i in range(7)]

    error = unprocessable(details)

    assert error.status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "body.names.4: bad" in error.message
    assert "body.names.5" not in error.message
    assert "(and 2 more)" in error.message


def test_error_response_is_the_json_error_shape() -> None:
    response = error_response(ApiError(HTTPStatus.NOT_FOUND, "not_found", "nothing here"))

    assert response.status_code == 404
    assert json.loads(str(response.body)) == {"error": "nothing here", "detail": []}
