"""Generated API Gateway events, well-formed or not, through the Lambda entry point: never a crash.

A hand-written event for ``sam local invoke`` or a misconfigured integration can put anything in
any field. Every answer must be a proxy result with a 4xx or 200 and a JSON body (503 only while
no model is loaded); an exception escaping the handler would be Lambda's bare 502.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from api_events import event_names, load_event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import lambda_context

from .test_handler import LAMBDA_ENVIRONMENT

FIELDS = (
    "httpMethod",
    "path",
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "body",
    "isBase64Encoded",
    "requestContext",
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3)
    ),
    max_leaves=8,
)
REPLACEMENTS = st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=3)
ANSWERED = {200, 400, 404, 405, 413, 415, 422}


@pytest.fixture(scope="module")
def handler() -> Iterator[ModuleType]:
    """The handler module, imported with the template's environment (Lambda's init)."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in LAMBDA_ENVIRONMENT.items():
            patch.setenv(key, value)
        yield importlib.import_module("nameorigin.lambda_api.handler")


@settings(
    derandomize=True,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=st.sampled_from(event_names()), replacements=REPLACEMENTS)
def test_any_event_gets_a_json_answer_never_an_exception(
    handler: ModuleType, name: str, replacements: dict[str, Any]
) -> None:
    event = {**load_event(name), **replacements}

    result = handler.lambda_handler(event, lambda_context())

    assert result["statusCode"] in ANSWERED, result
    if result["statusCode"] >= 400:
        assert json.loads(result["body"])["error"]
    handler.metrics.clear_metrics()
