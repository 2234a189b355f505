"""The message contract: what is accepted, what is refused and with which reason."""

from __future__ import annotations

import json
from typing import Any

import pytest

from nameorigin.batch.messages import (
    DERIVED_ID_PREFIX,
    SQS_MESSAGE_LIMIT_BYTES,
    FileFormat,
    InlineBatch,
    InvalidBatchMessageError,
    ReferenceBatch,
    batch_id_of,
    content_digest,
    parse_message,
)


def test_inline_message_is_parsed_with_defaults() -> None:
    message = parse_message('{"names": ["Jordan", "Nguyen"]}')
    assert isinstance(message, InlineBatch)
    assert message.names == ["Jordan", "Nguyen"]
    assert message.top_k == 3
    assert message.batch_id is None


def test_reference_message_splits_its_uri_and_infers_the_format() -> None:
    message = parse_message(b'{"s3_uri": "s3://my-bucket/in/2026/names.JSONL", "top_k": 1}')
    assert isinstance(message, ReferenceBatch)
    assert (message.bucket, message.key) == ("my-bucket", "in/2026/names.JSONL")
    assert message.resolved_format() is FileFormat.JSONL


def test_an_explicit_format_wins_over_the_extension() -> None:
    message = parse_message({"s3_uri": "s3://my-bucket/names.dat", "format": "csv"})
    assert isinstance(message, ReferenceBatch)
    assert message.resolved_format() is FileFormat.CSV


def test_an_unknown_extension_without_format_is_refused() -> None:
    message = parse_message({"s3_uri": "s3://my-bucket/names.dat"})
    assert isinstance(message, ReferenceBatch)
    with pytest.raises(InvalidBatchMessageError, match="set 'format'"):
        message.resolved_format()


def test_the_derived_batch_id_depends_on_content_not_on_spacing_or_key_order() -> None:
    one = parse_message('{"names": ["A", "B"], "top_k": 2}')
    same = parse_message('{ "top_k" : 2,\n "names":["A","B"] }')
    other = parse_message('{"names": ["A", "B"], "top_k": 3}')
    assert batch_id_of(one) == batch_id_of(same)
    assert batch_id_of(one).startswith(DERIVED_ID_PREFIX)
    assert batch_id_of(one) != batch_id_of(other)


def test_a_chosen_batch_id_is_kept_and_does_not_change_the_content_digest() -> None:
    chosen = parse_message({"batch_id": "run-42", "names": ["A"]})
    anonymous = parse_message({"names": ["A"]})
    assert batch_id_of(chosen) == "run-42"
    assert content_digest(chosen) == content_digest(anonymous)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ("{}", "exactly one of 'names'"),
        ('{"names": ["a"], "s3_uri": "s3://b/k.txt"}', "not both"),
        ('{"names": []}', "names: List should have at least 1 item"),
        ('{"names": ["a", 3]}', "names.1: Input should be a valid string"),
        ('{"names": ["a"], "top_k": 0}', "top_k: Input should be greater than or equal to 1"),
        ('{"names": ["a"], "colour": "red"}', "colour: Extra inputs are not permitted"),
        ('{"names": ["a"], "batch_id": "../../etc"}', "batch_id: String should match pattern"),
        ('{"s3_uri": "https://example.com/names.txt"}', "s3_uri: String should match pattern"),
        ('{"s3_uri": "s3://b/k.txt", "format": "xml"}', "format: Input should be"),
    ],
)
def test_malformed_messages_are_refused_with_a_reason(body: str | bytes, reason: str) -> None:
    with pytest.raises(InvalidBatchMessageError) as caught:
        parse_message(body)
    assert reason in caught.value.reason


def test_too_many_inline_names_are_refused_with_the_limit() -> None:
    with pytest.raises(InvalidBatchMessageError, match=r"3 names; the inline limit is 2"):
        parse_message({"names": ["a", "b", "c"]}, max_batch_names=2)


@pytest.mark.parametrize("as_type", [str, bytes, dict])
def test_an_oversize_message_is_refused_whatever_its_type(as_type: type) -> None:
    names = ["x" * 50] * 6_000
    document: dict[str, Any] = {"names": names}
    text = json.dumps(document)
    assert len(text) > SQS_MESSAGE_LIMIT_BYTES
    body: Any = {str: text, bytes: text.encode(), dict: document}[as_type]
    with pytest.raises(InvalidBatchMessageError) as caught:
        parse_message(body, max_batch_names=100_000)
    assert f"inline messages are limited to {SQS_MESSAGE_LIMIT_BYTES} bytes" in caught.value.reason
    assert "s3_uri" in caught.value.reason
