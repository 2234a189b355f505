"""The nameorigin-batch command line against the moto server (no poller: a queue and a bucket)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from batch_aws import sample_names

from nameorigin.batch.job_manifest import read_manifest
from nameorigin.batch.jobs import run_batch
from nameorigin.batch.messages import batch_id_of, parse_message
from nameorigin.batch.store import S3BatchStore
from nameorigin.config import SQS_MESSAGE_LIMIT_BYTES, Settings
from nameorigin.core.classifier import Classifier
from nameorigin.tooling import cli, topology
from nameorigin.tooling.cli.aws import CliError
from nameorigin.tooling.cli.submit import pack_messages

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = cli.main(list(argv), out)
    return status, out.getvalue()


def drain(sqs: SQSClient, queue_url: str) -> list[str]:
    bodies: list[str] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def test_packing_respects_both_the_name_count_and_the_byte_limit() -> None:
    names = ["Nguyen"] * 25 + ["x" * 200] * 30
    messages = list(pack_messages(names, top_k=2, batch_id="job", max_names=10, max_bytes=2_000))
    assert [name for message in messages for name in message.names] == names
    assert all(len(message.names) <= 10 for message in messages)
    assert all(len(message.model_dump_json()) <= 2_000 for message in messages)
    assert [message.batch_id for message in messages][:2] == ["job-00001", "job-00002"]


def test_packed_messages_without_a_batch_id_carry_their_derived_one() -> None:
    (message,) = pack_messages(["A", "B"], top_k=3, batch_id=None, max_names=10, max_bytes=1_000)
    assert message.batch_id is not None and message.batch_id.startswith("auto-")
    assert message.batch_id == batch_id_of(message.model_copy(update={"batch_id": None}))


def test_a_single_name_beyond_the_message_limit_is_refused_with_a_reason() -> None:
    with pytest.raises(CliError, match="larger than the 1000-byte message limit"):
        list(pack_messages(["x" * 2_000], top_k=3, batch_id=None, max_names=9, max_bytes=1_000))


def test_submit_sends_a_csv_inline_within_sqs_limits_as_one_job(
    resources: topology.CreatedResources, sqs: SQSClient, s3: S3Client, tmp_path: Path
) -> None:
    names = sample_names(30_000)
    source = tmp_path / "people.csv"
    source.write_text(
        "id,name\n" + "".join(f'{i},"{n}"\n' for i, n in enumerate(names)), encoding="utf-8"
    )
    argv = ["submit", str(source), "--queue", resources.queue_url, "--bucket", resources.bucket]
    status, printed = run_cli(*argv, "--quiet")
    assert status == 0
    (job_id,) = printed.split()
    manifest = read_manifest(s3, resources.bucket, job_id)
    assert manifest is not None and manifest.source == "inline"
    assert (manifest.input_file, manifest.lines, manifest.names) == ("people.csv", 30_001, 30_000)
    bodies = drain(sqs, resources.queue_url)
    assert all(len(body.encode()) <= SQS_MESSAGE_LIMIT_BYTES for body in bodies)
    messages = [parse_message(body) for body in bodies]
    assert len(messages) > 1
    assert sorted(manifest.batch_ids) == sorted(str(message.batch_id) for message in messages)
    by_id = {message.batch_id: message for message in messages}
    sent = [name for batch_id in manifest.batch_ids for name in by_id[batch_id].names]  # type: ignore[union-attr]
    assert sent == names
    # The same file again: the same content-derived batch ids, so the same job.
    assert run_cli(*argv, "--quiet")[1] == printed


def test_submit_uploads_a_large_file_and_sends_one_claim_check(
    resources: topology.CreatedResources, sqs: SQSClient, s3: S3Client, tmp_path: Path
) -> None:
    source = tmp_path / "many.txt"
    source.write_text("\n".join(sample_names(5_000)) + "\n", encoding="utf-8")
    argv = ["submit", str(source), "--queue", resources.queue_url, "--bucket", resources.bucket]
    status, printed = run_cli(*argv, "--reference-threshold", "1000", "--quiet")
    assert status == 0
    (body,) = drain(sqs, resources.queue_url)
    message = json.loads(body)
    manifest = read_manifest(s3, resources.bucket, printed.strip())
    assert manifest is not None and manifest.batch_ids == [message["batch_id"]]
    assert manifest.source == message["s3_uri"] and manifest.names is None
    bucket, key = message["s3_uri"].removeprefix("s3://").split("/", 1)
    assert bucket == resources.bucket and key.startswith("uploads/") and key.endswith("/many.txt")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == source.read_bytes()
    # The same file again: same content-addressed key, so the same batch id (idempotent).
    assert run_cli(*argv, "--reference-threshold", "1000", "--quiet")[1] == printed


def test_results_saves_the_jsonl_and_prints_summaries(
    classifier: Classifier,
    store: S3BatchStore,
    settings: Settings,
    resources: topology.CreatedResources,
    tmp_path: Path,
) -> None:
    summary = run_batch(
        {"batch_id": "done", "names": ["Jordan", "", "Rossi"]},
        classifier=classifier,
        store=store,
        settings=settings,
    )
    output = tmp_path / "out.jsonl"
    argv = ["results", "done", "--bucket", resources.bucket]
    assert run_cli(*argv, "--output", str(output)) == (0, "")
    assert [json.loads(line)["name"] for line in output.read_text().splitlines()] == [
        "Jordan",
        "",
        "Rossi",
    ]
    status, printed = run_cli(*argv, "--summary-only")
    assert status == 0 and json.loads(printed)["results"]["sha256"] == summary.results.sha256


def test_results_gives_up_after_its_wait_with_exit_status_2(
    resources: topology.CreatedResources, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("results", "never", "--bucket", resources.bucket, "--wait", "0.5")[0] == 2
    assert "batch never has no results after 0.5 s" in capsys.readouterr().err


def test_submit_without_a_results_bucket_sends_nothing(
    resources: topology.CreatedResources,
    sqs: SQSClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NAMEORIGIN_RESULTS_BUCKET", raising=False)
    (tmp_path / "n.txt").write_text("Jordan\n", encoding="utf-8")
    assert run_cli("submit", str(tmp_path / "n.txt"), "--queue", resources.queue_url)[0] == 1
    assert "the job's manifest goes to the results bucket" in capsys.readouterr().err
    assert drain(sqs, resources.queue_url) == []


def test_a_missing_queue_is_a_clear_error(
    aws_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NAMEORIGIN_BATCH_QUEUE", raising=False)
    (tmp_path / "n.txt").write_text("Jordan\n", encoding="utf-8")
    assert run_cli("submit", str(tmp_path / "n.txt"))[0] == 1
    assert "no queue given" in capsys.readouterr().err


def test_local_up_creates_the_template_topology_and_refuses_without_an_endpoint(
    aws_env: str, sqs: SQSClient, capsys: pytest.CaptureFixture[str]
) -> None:
    status, printed = run_cli("local-up", "--endpoint-url", aws_env, "--visibility-timeout", "7")
    assert status == 0 and "nameorigin-batch-dlq" in printed
    url = sqs.get_queue_url(QueueName=topology.Topology().queue_name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "7"
    assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == 3
    assert run_cli("local-up")[0] == 1
    assert "give --endpoint-url" in capsys.readouterr().err
