"""Generated batch messages and claim-check files against a real (moto) S3: no crash loops.

Every message ends in one of the two ways SQS can finish it: a complete results object (one line
per name, in input order) or ``InvalidBatchMessageError`` with a reason (fails the record until the
redrive policy moves it to the DLQ, where ``nameorigin-batch dlq list`` shows the reason). Any other
exception would be retried as transient on every delivery and reach the DLQ with no reason: that is
the crash loop these tests look for. Files mix broken UTF-8, byte-order marks, NULs, huge lines,
JSON bombs, quotes and every line ending; messages are arbitrary bytes and near-valid JSON.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING

import pytest
from batch_aws import stored_lines
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nameorigin.batch.jobs import InvalidBatchMessageError, run_batch
from nameorigin.batch.results import BatchSummary
from nameorigin.batch.store import S3BatchStore
from nameorigin.config import Settings
from nameorigin.core.classifier import Classifier

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

FUZZ_SETTINGS = settings(
    derandomize=True,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LINE_ENDINGS = st.sampled_from([b"\n", b"\r\n", b"\r"])
PIECES = st.one_of(
    st.text(max_size=20).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b"Schmidt",
            b"O'Brien",
            "Nguy\u1ec5n".encode(),
            b"\xef\xbb\xbf",  # a byte-order mark, anywhere
            b"\x00",
            b"\xff\xfe\xc3\x28",  # not UTF-8
            b'"',
            b'"quoted, with comma"',
            b",",
            b'{"name": "Rossi"}',
            b'{"name": 7}',
            b"[" * 5_000,  # a JSON nesting bomb
            b"9" * 5_000,  # an integer longer than Python parses by default
            b"a" * 70_000,  # longer than any line a names file has
            b"name",
        ]
    ),
)
FILES = st.lists(st.tuples(PIECES, LINE_ENDINGS), max_size=12).map(
    lambda parts: b"".join(piece + ending for piece, ending in parts)
)


def settle(
    body: str | bytes | dict[str, object],
    *,
    classifier: Classifier,
    store: S3BatchStore,
    settings: Settings,
) -> BatchSummary | InvalidBatchMessageError:
    """Run one message; the summary or the refusal (any other exception fails the test)."""
    try:
        return run_batch(body, classifier=classifier, store=store, settings=settings)
    except InvalidBatchMessageError as refusal:
        assert refusal.reason.strip(), "a refusal must say why"
        return refusal


def check_complete(summary: BatchSummary, s3: S3Client) -> list[dict[str, object]]:
    """The stored results: one line per name, numbered in input order."""
    lines = stored_lines(s3, summary)
    assert len(lines) == summary.count == summary.results.lines
    assert [line["index"] for line in lines] == list(range(summary.count))
    return lines


@FUZZ_SETTINGS
@given(content=FILES, file_format=st.sampled_from(["txt", "csv", "jsonl"]))
def test_claim_check_files_end_as_results_or_a_reason(
    content: bytes,
    file_format: str,
    classifier: Classifier,
    store: S3BatchStore,
    settings: Settings,
    s3: S3Client,
) -> None:
    key = f"uploads/{uuid.uuid4()}.{file_format}"
    s3.put_object(Bucket=store.bucket, Key=key, Body=content)
    message = {"s3_uri": f"s3://{store.bucket}/{key}"}
    outcome = settle(message, classifier=classifier, store=store, settings=settings)
    if isinstance(outcome, InvalidBatchMessageError):
        return
    lines = check_complete(outcome, s3)
    if file_format == "txt":  # line N of the file is result N, whatever its ending
        text = content.decode("utf-8-sig")
        expected = re.split(r"\r\n|\r|\n", text)
        if expected and expected[-1] == "":
            expected.pop()
        assert [line["name"] for line in lines] == expected


MESSAGES = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.builds(
        lambda names, top_k, extra: json.dumps(
            {"names": names, "top_k": top_k, **extra}, ensure_ascii=False
        ).encode("utf-8", "surrogatepass"),
        st.lists(st.text(max_size=15), max_size=8),
        st.one_of(st.integers(-3, 40), st.text(max_size=3), st.none(), st.floats()),
        st.dictionaries(
            st.sampled_from(["batch_id", "s3_uri", "format", "x"]), st.text(max_size=8)
        ),
    ),
    st.sampled_from(
        [
            b"\xef\xbb\xbf" + b'{"names": ["Smith"]}',
            b'{"names": ["Sm\x00ith", "\\u0000", "\\ud800"]}',
            b'{"names": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
            b'{"names": ["Smith"], "top_k": ' + b"9" * 5_000 + b"}",
            b'{"s3_uri": "s3://no-such-bucket-here/names.txt"}',
            b'{"s3_uri": "s3://nameorigin-results/names.unknown"}',
            b"[]",
            b"null",
        ]
    ),
)


@FUZZ_SETTINGS
@given(body=MESSAGES)
def test_batch_messages_end_as_results_or_a_reason(
    body: bytes,
    classifier: Classifier,
    store: S3BatchStore,
    settings: Settings,
    s3: S3Client,
) -> None:
    outcome = settle(body, classifier=classifier, store=store, settings=settings)
    if isinstance(outcome, BatchSummary):
        names = json.loads(body.decode("utf-8-sig"))["names"]
        assert [line["name"] for line in check_complete(outcome, s3)] == names


@pytest.mark.parametrize(
    "body",
    [
        b'{"names": ["Smith"], "top_k": ' + b"9" * 5_000 + b"}",
        b'{"names": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["huge-integer", "nesting-bomb"],
)
def test_json_the_parser_refuses_to_build_is_a_poison_message(
    body: bytes, classifier: Classifier, store: S3BatchStore, settings: Settings
) -> None:
    with pytest.raises(InvalidBatchMessageError, match="not valid JSON"):
        run_batch(body, classifier=classifier, store=store, settings=settings)
