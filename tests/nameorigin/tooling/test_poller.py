"""Through a real queue (moto over HTTP) with the local poller: nothing lost, nothing doubled."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from batch_aws import (
    TEST_MAX_RECEIVE_COUNT,
    FailingWrites,
    assert_lines_match,
    expected_lines,
    keys,
    running_poller,
    sample_names,
    stored_lines,
    wait_until,
)

from nameorigin.batch.store import S3BatchStore
from nameorigin.config import Settings
from nameorigin.core.classifier import Classifier
from nameorigin.tooling import cli, topology
from nameorigin.tooling.poller import LocalEventSourceMapping, PollOutcome

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

HERE = Path(__file__).resolve().parent


def depth(sqs: SQSClient, queue_url: str) -> int:
    """Messages on a queue, visible or in flight."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = cli.main(list(argv), out)
    return status, out.getvalue()


def test_ten_thousand_names_through_the_queue_equal_direct_predictions_in_order(
    classifier: Classifier,
    store: S3BatchStore,
    settings: Settings,
    resources: topology.CreatedResources,
    sqs: SQSClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = sample_names(10_000)
    source = tmp_path / "names.txt"
    source.write_text("\n".join(names) + "\n", encoding="utf-8")
    monkeypatch.setenv("NAMEORIGIN_MAX_BATCH_NAMES", "2500")  # four messages, one poller batch
    status, printed = run_cli(
        "submit", str(source), "--queue", resources.queue_url, "--bucket", resources.bucket,
        "--batch-id", "tenk", "--quiet",
    )  # fmt: skip
    assert (status, printed) == (0, "tenk\n")
    batch_ids = [f"tenk-{number:05d}" for number in range(1, 5)]

    with running_poller(
        sqs, resources.queue_url, classifier=classifier, store=store, settings=settings
    ):
        status, collected = run_cli(
            "results", *batch_ids, "--bucket", resources.bucket, "--wait", "60"
        )
    assert status == 0
    lines = [json.loads(line) for line in collected.splitlines()]
    expected = []
    for start in range(0, len(names), 2_500):
        expected += expected_lines(classifier, names[start : start + 2_500], 3)
    assert_lines_match(lines, expected)
    assert len(keys(store.client, store.bucket)) == 2 * len(batch_ids)
    wait_until(lambda: depth(sqs, resources.queue_url) == 0, what="the queue to drain")


def test_poison_reaches_the_dlq_after_max_receive_count_and_the_good_ones_succeed(
    classifier: Classifier,
    store: S3BatchStore,
    settings: Settings,
    resources: topology.CreatedResources,
    sqs: SQSClient,
) -> None:
    poison = ['{"names": ["Dupont", ', '{"names": "Dupont"}']
    good = [
        json.dumps({"batch_id": f"good-{i}", "names": sample_names(50, seed=i)}) for i in range(3)
    ]
    for body in [good[0], poison[0], good[1], poison[1], good[2]]:
        sqs.send_message(QueueUrl=resources.queue_url, MessageBody=body)

    with running_poller(
        sqs, resources.queue_url, classifier=classifier, store=store, settings=settings
    ):
        wait_until(lambda: depth(sqs, resources.dlq_url) == 2, timeout=45, what="the DLQ")
    for i in range(3):
        summary = store.read_summary(f"good-{i}")
        assert summary is not None and summary.count == 50
    assert depth(sqs, resources.queue_url) == 0

    status, listed = run_cli("dlq", "list", "--dlq", resources.dlq_url)
    assert status == 0
    records = sorted((json.loads(line) for line in listed.splitlines()), key=lambda r: r["body"])
    assert [record["body"] for record in records] == sorted(poison)
    assert all(record["receive_count"] >= TEST_MAX_RECEIVE_COUNT for record in records)
    diagnoses = {record["body"]: record["diagnosis"] for record in records}
    assert diagnoses[poison[0]].startswith("invalid: message is not valid JSON")
    assert diagnoses[poison[1]] == "invalid: invalid message: names: Input should be a valid list"
    assert depth(sqs, resources.dlq_url) == 2  # listing does not consume

    status, moved = run_cli(
        "dlq", "redrive", "--dlq", resources.dlq_url, "--queue", resources.queue_url
    )
    assert status == 0 and len(moved.split()) == 2
    assert depth(sqs, resources.dlq_url) == 0
    assert depth(sqs, resources.queue_url) == 2


def test_a_failed_results_write_is_retried_through_the_queue_not_lost(
    classifier: Classifier,
    settings: Settings,
    resources: topology.CreatedResources,
    sqs: SQSClient,
    s3: S3Client,
) -> None:
    store = FailingWrites(s3, resources.bucket)
    names = sample_names(400)
    sqs.send_message(
        QueueUrl=resources.queue_url,
        MessageBody=json.dumps({"batch_id": "retry-me", "names": names}),
    )
    with running_poller(
        sqs, resources.queue_url, classifier=classifier, store=store, settings=settings
    ):
        summary = wait_until(lambda: store.read_summary("retry-me"), what="the retried batch")
        wait_until(lambda: depth(sqs, resources.queue_url) == 0, what="the delete")
    assert store.failures_left == 0  # the first delivery did fail
    assert_lines_match(stored_lines(s3, summary), expected_lines(classifier, names, 3))
    assert keys(s3, resources.bucket) == ["results/retry-me.jsonl", "results/retry-me.summary.json"]
    assert depth(sqs, resources.dlq_url) == 0


@pytest.fixture
def worker_env(
    settings: Settings, resources: topology.CreatedResources, tmp_path: Path
) -> dict[str, str]:
    """The environment a worker process gets (AWS_* already point at moto via aws_env)."""
    return {
        **os.environ,
        "NAMEORIGIN_RESULTS_BUCKET": resources.bucket,
        "NAMEORIGIN_BATCH_QUEUE": resources.queue_url,
        "POWERTOOLS_METRICS_NAMESPACE": "nameorigin-tests",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "STALL_MARKER": str(tmp_path / "stalled"),
    }


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Worker processes started by a test; whatever is still running at the end is killed."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_a_worker_killed_mid_batch_is_redelivered_into_one_complete_result(
    classifier: Classifier,
    resources: topology.CreatedResources,
    sqs: SQSClient,
    s3: S3Client,
    worker_env: dict[str, str],
    processes: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    names = sample_names(3_000)
    sqs.send_message(
        QueueUrl=resources.queue_url,
        MessageBody=json.dumps({"batch_id": "killed", "names": names, "top_k": 2}),
    )
    poll = ["poll", "--batch-size", "1", "--batching-window", "0"]
    log = (tmp_path / "stalling.log").open("wb")
    stalling = subprocess.Popen(
        [sys.executable, str(HERE / "stalling_worker.py"), *poll],
        env=worker_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    processes.append(stalling)
    marker = Path(worker_env["STALL_MARKER"])
    wait_until(marker.exists, timeout=60, what="the worker to reach its results upload")
    stalling.send_signal(signal.SIGKILL)
    stalling.wait(timeout=10)
    assert keys(s3, resources.bucket) == []  # it died holding the batch: nothing written

    healthy = subprocess.Popen(
        [sys.executable, "-m", "nameorigin.tooling", *poll],
        env=worker_env,
        stdout=(tmp_path / "healthy.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    processes.append(healthy)
    store = S3BatchStore(s3, resources.bucket)
    summary = wait_until(lambda: store.read_summary("killed"), timeout=60, what="redelivery")
    wait_until(lambda: depth(sqs, resources.queue_url) == 0, what="the delete")
    healthy.send_signal(signal.SIGINT)
    assert healthy.wait(timeout=20) == 0

    assert_lines_match(stored_lines(s3, summary), expected_lines(classifier, names, 2))
    assert keys(s3, resources.bucket) == ["results/killed.jsonl", "results/killed.summary.json"]
    assert depth(sqs, resources.dlq_url) == 0


def test_the_queue_itself_refuses_an_oversize_message_with_a_reason(
    resources: topology.CreatedResources, sqs: SQSClient
) -> None:
    body = json.dumps({"names": ["x" * 60] * 5_000})
    assert len(body) > topology.Topology().max_message_bytes
    with pytest.raises(sqs.exceptions.ClientError, match="shorter than 262144 bytes"):
        sqs.send_message(QueueUrl=resources.queue_url, MessageBody=body)


def test_the_poller_builds_lambda_shaped_records_and_deletes_only_successes(
    resources: topology.CreatedResources, sqs: SQSClient
) -> None:
    attribute = {"kind": {"DataType": "String", "StringValue": "demo"}}
    sqs.send_message(QueueUrl=resources.queue_url, MessageBody="a", MessageAttributes=attribute)
    sqs.send_message(QueueUrl=resources.queue_url, MessageBody="b")
    seen: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.extend(event["Records"])
        failed = [r["messageId"] for r in event["Records"] if r["body"] == "b"]
        assert context.get_remaining_time_in_millis() > 0
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}

    mapping = LocalEventSourceMapping(
        sqs, resources.queue_url, handler, batch_size=10, batching_window_seconds=0.5
    )
    assert mapping.poll_once() == PollOutcome(received=2, deleted=1, failed=1)
    record = next(r for r in seen if r["body"] == "a")
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":nameorigin-batch")
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["kind"]["stringValue"] == "demo"
    assert depth(sqs, resources.queue_url) == 1  # "b" waits out its visibility timeout


def _raises(event: dict[str, Any], context: Any) -> Any:
    raise RuntimeError("boom")


@pytest.mark.parametrize(
    "handler",
    [
        _raises,
        lambda event, context: {"unexpected": True},
        lambda event, context: {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]},
    ],
)
def test_a_handler_that_raises_or_answers_nonsense_fails_the_whole_batch(
    handler: Any, resources: topology.CreatedResources, sqs: SQSClient
) -> None:
    for body in ("a", "b"):
        sqs.send_message(QueueUrl=resources.queue_url, MessageBody=body)
    mapping = LocalEventSourceMapping(
        sqs, resources.queue_url, handler, batch_size=10, batching_window_seconds=0.5
    )
    assert mapping.poll_once() == PollOutcome(received=2, deleted=0, failed=2)
    assert depth(sqs, resources.queue_url) == 2
