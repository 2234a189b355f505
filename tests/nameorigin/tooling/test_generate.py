"""The committed JSON Schemas are exactly what the models generate, and they say what we mean."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from nameorigin.tooling.generate import SCHEMA_DIR, render, schemas

EVENTS = Path(__file__).resolve().parents[3] / "events" / "sqs"


@pytest.mark.parametrize("name", sorted(schemas()))
def test_committed_schema_is_in_sync_with_the_models(name: str) -> None:
    committed = (SCHEMA_DIR / name).read_text(encoding="utf-8")
    assert committed == render(schemas()[name]), (
        f"{name} is stale: run `.venv/bin/python -m nameorigin.batch.schema`"
    )


def message_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / "batch-message.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize(
    ("message", "valid"),
    [
        ({"names": ["Jordan"]}, True),
        ({"batch_id": "x-1", "s3_uri": "s3://bucket-name/k.csv", "top_k": 2}, True),
        ({"names": ["Jordan"], "s3_uri": "s3://bucket-name/k.csv"}, False),
        ({"names": []}, False),
        ({}, False),
        ({"s3_uri": "s3://bucket-name/k.csv", "format": "parquet"}, False),
    ],
)
def test_the_message_schema_accepts_and_refuses_like_the_worker(
    message: dict[str, Any], valid: bool
) -> None:
    assert message_validator().is_valid(message) is valid


def test_every_sample_event_body_is_judged_by_the_schema_as_by_the_worker() -> None:
    validator = message_validator()
    verdicts = {}
    for path in sorted(EVENTS.glob("*.json")):
        for record in json.loads(path.read_text(encoding="utf-8"))["Records"]:
            try:
                body: Any = json.loads(record["body"])
            except json.JSONDecodeError:
                body = None
            verdicts[record["messageId"][-1]] = body is not None and validator.is_valid(body)
    # 1 inline, 2 claim check, 3 and 6 good, 4 bad JSON, 5 top_k 0 (mixed-with-poison.json).
    assert verdicts == {"1": True, "2": True, "3": True, "4": False, "5": False, "6": True}
