"""What the batch tests share besides fixtures: names, a failing store, a poller in a thread,
and readers of what a batch stored."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from nameorigin.batch.results import BatchSummary
from nameorigin.batch.store import S3BatchStore
from nameorigin.config import Settings
from nameorigin.core.classifier import Classifier, Prediction
from nameorigin.tooling.poller import LocalEventSourceMapping

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

REGION = "us-east-1"
#: Seconds a received message stays invisible in tests (template: 5700): keeps redelivery fast.
TEST_VISIBILITY_TIMEOUT = 2
TEST_MAX_RECEIVE_COUNT = 2


_SYLLABLES = (
    "ka",
    "to",
    "mi",
    "ro",
    "sch",
    "ni",
    "vic",
    "ez",
    "son",
    "li",
    "ng",
    "oy",
    "mac",
    "da",
    "zh",
    "ou",
    "ber",
    "ger",
    "ski",
    "ov",
    "an",
    "ta",
    "hu",
    "yen",
    "el",
    "la",
    "ri",
    "o'",
    "van ",
    "é",
)


def sample_names(count: int, seed: int = 7) -> list[str]:
    """``count`` surname-like strings, reproducible, with unclassifiable ones at fixed positions."""
    rng = random.Random(seed)
    names = [
        "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 4))).strip().title()
        for _ in range(count)
    ]
    for position, bad in ((0, ""), (count // 2, "1234"), (count - 1, "   ")):
        names[position] = bad
    return names


class FailingWrites(S3BatchStore):
    """A store whose results upload fails like S3 does under an outage (503 SlowDown)."""

    failures_left = 1

    def write_results(self, batch_id: str, spool: IO[bytes]) -> str:
        if self.failures_left:
            self.failures_left -= 1
            raise ClientError(
                {"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}},
                "PutObject",
            )
        return super().write_results(batch_id, spool)


def wait_until(condition: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
    """Poll ``condition`` until it returns something truthy (and return it), or fail the test."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


@contextmanager
def running_poller(
    sqs: SQSClient,
    queue_url: str,
    *,
    classifier: Classifier,
    store: S3BatchStore,
    settings: Settings,
    batch_size: int = 10,
) -> Iterator[LocalEventSourceMapping]:
    """The local event source mapping in a thread, calling the batch handler's process_event."""

    from nameorigin.lambda_batch.handler import process_event  # noqa: PLC0415 - loads the model

    def handler(event: dict[str, Any], context: Any) -> Any:
        return process_event(event, context, classifier=classifier, store=store, settings=settings)

    mapping = LocalEventSourceMapping(
        sqs, queue_url, handler, batch_size=batch_size, batching_window_seconds=0.5
    )
    stop = threading.Event()
    thread = threading.Thread(target=mapping.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield mapping
    finally:
        stop.set()
        thread.join(timeout=30)


def stored_lines(s3: S3Client, summary: BatchSummary) -> list[dict[str, Any]]:
    body = s3.get_object(Bucket=summary.results.bucket, Key=summary.results.key)["Body"].read()
    return [json.loads(line) for line in body.decode().splitlines()]


def expected_lines(classifier: Classifier, names: list[str], top_k: int) -> list[dict[str, Any]]:
    """What the results must say: the core Classifier's own answers, in input order."""
    lines: list[dict[str, Any]] = []
    for index, outcome in enumerate(classifier.classify(names, top_k)):
        if isinstance(outcome, Prediction):
            lines.append(
                {
                    "index": index,
                    "name": outcome.name,
                    "labels": list(outcome.labels),
                    "log_probabilities": list(outcome.log_probabilities),
                    "probabilities": list(outcome.probabilities),
                }
            )
        else:
            error = {"reason": str(outcome.reason), "message": outcome.message}
            lines.append({"index": index, "name": outcome.name, "error": error})
    return lines


def keys(s3: S3Client, bucket: str, prefix: str = "results/") -> list[str]:
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


#: Same answers up to float rounding: a name scored in another batch composition may differ in the
#: last bits (onnxruntime picks kernels by batch shape), never in its labels; result lines round
#: probabilities to 5 decimals, so such a difference can move the last digit by one.
LINE_TOLERANCE = 2e-5


def assert_lines_match(actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    """Result lines equal the expected ones: same fields and labels, numbers within tolerance."""
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        assert got.keys() == want.keys(), (got, want)
        for key, value in want.items():
            if key in {"log_probabilities", "probabilities"}:
                assert got[key] == pytest.approx(value, abs=LINE_TOLERANCE), (got, want)
            else:
                assert got[key] == value, (got, want)
