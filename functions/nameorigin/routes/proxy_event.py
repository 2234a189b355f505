"""The API Gateway REST (v1) event as the resolver reads it during one request."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent


class RestProxyEvent(APIGatewayProxyEvent):
    """Powertools' REST (v1) event, with each header view built once per request.

    Powertools builds a new ``CaseInsensitiveDict`` on every read of ``headers``,
    ``multi_value_headers`` and ``resolved_headers_field``: seven per request, about a tenth of
    the resolver's own time. The event does not change while it is resolved, so one copy each
    answers every read. (Request validation rewrites the header view only for routes that declare
    ``Header`` parameters; none here do, and a test keeps it so.)
    """

    @cached_property
    def headers(self) -> dict[str, str]:
        """The single-value headers, case-insensitive."""
        return super().headers

    @cached_property
    def multi_value_headers(self) -> dict[str, list[str]]:
        """The multi-value headers, case-insensitive."""
        return super().multi_value_headers

    @cached_property
    def resolved_headers_field(self) -> dict[str, Any]:
        """What validation and compression read: the multi-value headers, else the single ones."""
        return self.multi_value_headers or self.headers


#: The fields Powertools reads, and what API Gateway's REST proxy integration puts in them.
_STRING_MAPS = ("headers", "queryStringParameters", "pathParameters", "stageVariables")
_LIST_MAPS = ("multiValueHeaders", "multiValueQueryStringParameters")


def _is_string_map(value: Any, of_lists: bool) -> bool:
    if not isinstance(value, Mapping):
        return False
    for key, item in value.items():
        values = item if of_lists else [item]
        if not isinstance(key, str) or not isinstance(values, list):
            return False
        if not all(isinstance(one, str) for one in values):
            return False
    return True


def event_problem(event: Any) -> str | None:
    """What makes ``event`` something API Gateway's REST proxy integration never sends, or None.

    API Gateway always sends a method, a path and string maps (or null); a hand-written event for
    ``sam local invoke`` or a misconfigured integration may not, and Powertools would fail on it
    with a bare exception (Lambda's 502). Checked in a few isinstance calls per request.
    """
    if not isinstance(event, Mapping):
        return f"the event must be a JSON object, got {type(event).__name__}"
    return next(_field_problems(event), None)


def _field_problems(event: Mapping[str, Any]) -> Iterator[str]:
    method, path = event.get("httpMethod"), event.get("path")
    if not isinstance(method, str) or not method:
        yield "httpMethod must be a non-empty string"
    if not isinstance(path, str) or not path.startswith("/"):
        yield "path must be a string starting with /"
    for field in (*_STRING_MAPS, *_LIST_MAPS):
        value = event.get(field)
        if value is not None and not _is_string_map(value, of_lists=field in _LIST_MAPS):
            shape = "lists of strings" if field in _LIST_MAPS else "strings"
            yield f"{field} must be null or an object of {shape}"
    body = event.get("body")
    if body is not None and not isinstance(body, str):
        yield "body must be null or a string"
    if not isinstance(event.get("isBase64Encoded", False), bool | None):
        yield "isBase64Encoded must be true or false"
