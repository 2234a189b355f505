"""Regressions for what generated requests found (issue 11): each was a 500 or an undocumented 405.

- ``multipart/form-data`` without a boundary: Powertools raised a bare ValueError (500); every body
  that is not JSON is now a 415 before any parser sees it.
- a path ending in a newline matched its route (``$`` matches before a final ``\\n``), so
  ``/v2%0A`` answered 200 and the 404/405 decision saw templates the path did not have.
- an integer of more than 4,300 digits made ``json.loads`` raise ValueError (500, and a crash loop
  for batch messages); it is a 400 (and a poison message, tests/nameorigin/batch/test_fuzz.py).
- every operation can answer 405 (the path exists with another method): the document says so.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from api_events import load_event

from nameorigin.routes.resolver import openapi_document

from .conftest import Resolve

POST_ROUTES = ["/get_prediction", "/predict", "/v2/models/nameorigin/infer"]


def event(
    path: str, method: str = "GET", body: str | None = None, **headers: str
) -> dict[str, Any]:
    """The committed predict event with another path, method, body and headers."""
    base = copy.deepcopy(load_event("predict"))
    base.update(path=path, httpMethod=method, body=body)
    base["headers"] = {"Accept": "application/json", **headers}
    base["multiValueHeaders"] = {key: [value] for key, value in base["headers"].items()}
    return base


@pytest.mark.parametrize("path", POST_ROUTES)
@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "text/plain",
    ],
)
def test_bodies_that_are_not_json_get_415_on_every_post_route(
    resolve: Resolve, path: str, content_type: str
) -> None:
    answer = resolve(event(path, "POST", '{"names": ["Smith"]}', **{"Content-Type": content_type}))

    assert answer.status == 415, answer.body
    assert answer.body["detail"][0]["type"] == "content_type"


@pytest.mark.parametrize("path", POST_ROUTES)
def test_json_with_parameters_is_still_json(resolve: Resolve, path: str) -> None:
    body = {
        "/get_prediction": {"name": "Smith"},
        "/predict": {"names": ["Smith"]},
        "/v2/models/nameorigin/infer": {
            "inputs": [{"name": "names", "shape": [1], "datatype": "BYTES", "data": ["Smith"]}]
        },
    }[path]
    content_type = "application/json; charset=utf-8"
    answer = resolve(event(path, "POST", json.dumps(body), **{"Content-Type": content_type}))

    assert answer.status == 200, answer.body


@pytest.mark.parametrize(
    "path", ["/v2\n", "/v2/models/nameorigin\n", "/v2/models/nameorigin/ready\n", "/predict\n"]
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_path_ending_in_a_newline_is_no_route(resolve: Resolve, path: str, method: str) -> None:
    answer = resolve(event(path, method, "{}", **{"Content-Type": "application/json"}))

    assert answer.status == 404, answer.body


@pytest.mark.parametrize("name", ["a\x01b", "é", "名前", "a b", "\x7f", "x\u2028"])
@pytest.mark.parametrize("suffix", ["", "/ready"])
def test_unknown_model_names_of_any_characters_are_404(
    resolve: Resolve, name: str, suffix: str
) -> None:
    answer = resolve(event(f"/v2/models/{name}{suffix}"))

    assert answer.status == 404, answer.body


@pytest.mark.parametrize("path", POST_ROUTES)
def test_a_number_too_long_to_parse_is_a_400(resolve: Resolve, path: str) -> None:
    body = '{"names": ["Smith"], "top_k": ' + "9" * 5_000 + "}"
    answer = resolve(event(path, "POST", body, **{"Content-Type": "application/json"}))

    assert answer.status == 400, answer.body
    assert answer.body["detail"][0]["type"] == "json_invalid"


def test_every_documented_operation_documents_405() -> None:
    document = json.loads(openapi_document())

    operations = [op for ops in document["paths"].values() for op in ops.values()]
    assert operations
    for operation in operations:
        assert "405" in operation["responses"], operation.get("summary")
