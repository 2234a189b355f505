"""The SQS Lambda handler on the sample events: partial batch responses, real S3 (moto)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from batch_aws import FailingWrites
from support import free_port, lambda_context

from nameorigin.batch.store import S3BatchStore
from nameorigin.config import Settings
from nameorigin.core.classifier import Classifier
from nameorigin.lambda_batch import handler

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "events" / "sqs"
#: The Lambda Runtime Interface Emulator shipped in the SAM CLI wheel (make sam-venv).
RIE = ROOT / ".venv-sam/lib/python3.11/site-packages/samcli/local/rapid/aws-lambda-rie-x86_64"


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return event


@pytest.fixture
def lambda_entry(monkeypatch: pytest.MonkeyPatch, settings: Settings, store: S3BatchStore) -> Any:
    """``handler.lambda_handler`` wired to the test bucket, as its environment would wire it."""
    monkeypatch.setattr(handler, "settings", settings)
    monkeypatch.setattr(handler, "default_store", lambda: store)
    # template.yaml's Globals set POWERTOOLS_METRICS_NAMESPACE; the module read the test's env.
    monkeypatch.setattr(handler.metrics.provider, "namespace", "nameorigin-tests")
    return handler.lambda_handler


def test_only_the_poison_records_are_reported_as_failures(
    classifier: Classifier, store: S3BatchStore, settings: Settings
) -> None:
    event = load_event("mixed-with-poison.json")
    response = handler.process_event(event, classifier=classifier, store=store, settings=settings)
    records = event["Records"]
    assert response == {
        "batchItemFailures": [
            {"itemIdentifier": records[1]["messageId"]},
            {"itemIdentifier": records[2]["messageId"]},
        ]
    }
    assert store.read_summary("sample-good-1") is not None
    anonymous = json.loads(records[3]["body"])
    assert anonymous == {"names": ["Papadopoulos", "Murphy"], "top_k": 1}


def test_the_inline_sample_event_goes_through_the_lambda_entry_point(
    lambda_entry: Any, store: S3BatchStore
) -> None:
    response = lambda_entry(load_event("inline-batch.json"), lambda_context("BatchFunction"))
    assert response == {"batchItemFailures": []}
    summary = store.read_summary("sample-inline")
    assert summary is not None
    assert (summary.count, summary.rejected, summary.top_k) == (6, 1, 2)


def test_the_claim_check_sample_event_reads_its_file(
    lambda_entry: Any, store: S3BatchStore, s3: S3Client
) -> None:
    event = load_event("claim-check.json")
    uri = json.loads(event["Records"][0]["body"])["s3_uri"]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    assert bucket == store.bucket  # the sample points at the template's bucket name
    s3.put_object(Bucket=bucket, Key=key, Body=b"Jordan\nNguyen\nSchmidt\n")
    assert lambda_entry(event, lambda_context("BatchFunction")) == {"batchItemFailures": []}
    summary = store.read_summary("sample-claim-check")
    assert summary is not None and summary.count == 3


def test_a_transient_failure_fails_its_record_and_spares_the_others(
    classifier: Classifier, settings: Settings, s3: S3Client
) -> None:
    store = FailingWrites(s3, settings.results_bucket)
    event = load_event("mixed-with-poison.json")
    response = handler.process_event(event, classifier=classifier, store=store, settings=settings)
    ids = [item["itemIdentifier"] for item in response["batchItemFailures"]]
    records = event["Records"]
    # The first good record hit the failing write; the last one succeeded after it.
    assert ids == [records[0]["messageId"], records[1]["messageId"], records[2]["messageId"]]
    assert store.read_summary("sample-good-1") is None


def test_a_batch_of_nothing_but_poison_raises_so_lambda_retries_it_whole(
    classifier: Classifier, store: S3BatchStore, settings: Settings
) -> None:
    event = load_event("mixed-with-poison.json")
    event["Records"] = event["Records"][1:3]
    with pytest.raises(BatchProcessingError):
        handler.process_event(event, classifier=classifier, store=store, settings=settings)


def test_the_real_lambda_runtime_interface_runs_the_handler_on_a_real_event(
    settings: Settings, store: S3BatchStore, tmp_path: Path
) -> None:
    """RIE + awslambdaric (what AWS's Python images run) in front of the handler's source."""
    port = free_port()
    task_root = ROOT / "functions"
    env = {
        **os.environ,  # AWS_* point at the moto server (aws_env)
        "LAMBDA_TASK_ROOT": str(task_root),
        "PYTHONPATH": str(task_root),
        "AWS_LAMBDA_FUNCTION_NAME": "BatchFunction",
        "NAMEORIGIN_RESULTS_BUCKET": settings.results_bucket,
        "POWERTOOLS_METRICS_NAMESPACE": "nameorigin-tests",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    command = [
        str(RIE),
        "--runtime-interface-emulator-address",
        f"127.0.0.1:{port}",
        "--runtime-api-address",
        f"127.0.0.1:{free_port()}",
        sys.executable,
        "-m",
        "awslambdaric",
        "nameorigin.lambda_batch.handler.lambda_handler",
    ]
    log = (tmp_path / "rie.log").open("wb")
    process = subprocess.Popen(
        command,
        cwd=task_root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, "RIE did not start"
                time.sleep(0.2)
        event = load_event("mixed-with-poison.json")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/2015-03-31/functions/function/invocations",
            data=json.dumps(event).encode(),
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            response = json.loads(answer.read())
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    poison = [record["messageId"] for record in event["Records"][1:3]]
    assert response == {"batchItemFailures": [{"itemIdentifier": i} for i in poison]}, (
        tmp_path / "rie.log"
    ).read_text(errors="replace")
    assert store.read_summary("sample-good-1") is not None
