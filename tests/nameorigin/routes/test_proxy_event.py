"""The resolver's event: Powertools' REST event, its header views built once per request."""

from __future__ import annotations

import pytest
from api_events import event_names, load_event
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from nameorigin.routes.proxy_event import RestProxyEvent, event_problem

from .conftest import MakeResolver

VIEWS = ("headers", "multi_value_headers", "resolved_headers_field", "resolved_cookies_field")


@pytest.mark.parametrize("name", event_names())
def test_header_views_equal_powertools_own(name: str) -> None:
    raw = load_event(name)
    cached, plain = RestProxyEvent(raw), APIGatewayProxyEvent(raw)
    for view in VIEWS:
        assert getattr(cached, view) == getattr(plain, view), view
        assert type(getattr(cached, view)) is type(getattr(plain, view)), view
    assert cached.headers.get("CONTENT-TYPE") == plain.headers.get("CONTENT-TYPE")


@pytest.mark.parametrize(
    ("headers", "multi"),
    [
        (None, None),
        ({"Content-Type": "text/plain"}, None),
        (None, {"Accept-Encoding": ["gzip", "br"]}),
        ({"X-A": "2"}, {"X-A": ["1", "2"], "Cookie": ["a=1", "b=2"]}),
    ],
)
def test_header_views_equal_powertools_own_for_partial_events(
    headers: dict[str, str] | None, multi: dict[str, list[str]] | None
) -> None:
    raw = {"headers": headers, "multiValueHeaders": multi, "path": "/", "httpMethod": "GET"}
    cached, plain = RestProxyEvent(raw), APIGatewayProxyEvent(raw)
    for view in VIEWS:
        assert getattr(cached, view) == getattr(plain, view), view


def test_each_view_is_built_once() -> None:
    event = RestProxyEvent(load_event("get_prediction"))
    assert event.headers is event.headers
    assert event.multi_value_headers is event.multi_value_headers
    assert event.resolved_headers_field is event.multi_value_headers


def test_the_resolver_reads_this_event(make_resolver: MakeResolver) -> None:
    app = make_resolver()
    assert isinstance(app._to_proxy_event(load_event("get_prediction")), RestProxyEvent)


def test_no_route_declares_header_parameters(make_resolver: MakeResolver) -> None:
    """Validation rewrites the cached header view in place only for ``Header`` parameters."""
    for route in make_resolver()._routes():
        assert not route.dependant.header_params, route.path


@pytest.mark.parametrize("name", event_names())
def test_every_sample_event_is_a_proxy_event(name: str) -> None:
    assert event_problem(load_event(name)) is None


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"httpMethod": ""}, "httpMethod"),
        ({"path": "get_prediction"}, "path"),
        ({"queryStringParameters": {"a": 1}}, "queryStringParameters"),
        ({"multiValueQueryStringParameters": {"a": "1"}}, "multiValueQueryStringParameters"),
        ({"pathParameters": []}, "pathParameters"),
        ({"isBase64Encoded": "yes"}, "isBase64Encoded"),
    ],
)
def test_what_api_gateway_never_sends_is_named(change: dict[str, object], problem: str) -> None:
    found = event_problem({**load_event("get_prediction"), **change})
    assert found is not None and problem in found


def test_null_maps_and_a_missing_body_are_proxy_events() -> None:
    event = {"httpMethod": "GET", "path": "/v2", "headers": None, "multiValueHeaders": None}
    assert event_problem(event) is None
