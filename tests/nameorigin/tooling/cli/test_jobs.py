"""One job per file, end to end on the moto server with the local poller: ``submit`` prints one job
id, ``results JOB_ID`` writes one file in input order, or names the batch in the DLQ and fails."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest
from batch_aws import assert_lines_match, expected_lines, running_poller, sample_names

from nameorigin.batch.job_manifest import job_key
from nameorigin.batch.jobs import run_batch
from nameorigin.batch.store import S3BatchStore
from nameorigin.config import Settings
from nameorigin.core.classifier import Classifier
from nameorigin.tooling import cli, topology
from nameorigin.tooling.cli.results import Renumber
from nameorigin.tooling.generate import SCHEMA_DIR

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

PER_MESSAGE = 2_500


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = cli.main(list(argv), out)
    return status, out.getvalue()


def stored_manifest(s3: S3Client, bucket: str, job_id: str) -> dict[str, Any]:
    body = s3.get_object(Bucket=bucket, Key=job_key(job_id))["Body"].read()
    manifest: dict[str, Any] = json.loads(body)
    return manifest


def test_a_file_of_several_messages_is_one_job_collected_into_one_file_in_input_order(
    classifier: Classifier,
    store: S3BatchStore,
    settings: Settings,
    resources: topology.CreatedResources,
    sqs: SQSClient,
    s3: S3Client,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = sample_names(9_000)
    source = tmp_path / "names.txt"
    source.write_text("\n".join(names) + "\n", encoding="utf-8")
    monkeypatch.setenv("NAMEORIGIN_MAX_BATCH_NAMES", str(PER_MESSAGE))  # four messages
    where = ["--queue", resources.queue_url, "--bucket", resources.bucket]
    status, printed = run_cli("submit", str(source), *where, "--quiet")
    assert status == 0
    (job_id,) = printed.split()

    manifest = stored_manifest(s3, resources.bucket, job_id)
    schema = json.loads((SCHEMA_DIR / "job-manifest.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(manifest, schema, cls=jsonschema.Draft202012Validator)
    batch_ids = [batch["batch_id"] for batch in manifest["batches"]]
    assert len(batch_ids) == 4
    assert [batch["names"] for batch in manifest["batches"]] == [2_500, 2_500, 2_500, 1_500]
    assert (manifest["input_file"], manifest["lines"], manifest["names"]) == (
        "names.txt",
        9_000,
        9_000,
    )

    output = tmp_path / "out.jsonl"
    with running_poller(
        sqs, resources.queue_url, classifier=classifier, store=store, settings=settings
    ):
        status, collected = run_cli(
            "results", job_id, *where, "--dlq", resources.dlq_url, "--output", str(output)
        )
    assert (status, collected) == (0, "")
    expected = []
    for start in range(0, len(names), PER_MESSAGE):  # what each batch classified, renumbered
        for line in expected_lines(classifier, names[start : start + PER_MESSAGE], 3):
            expected.append({**line, "index": line["index"] + start})
    lines = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert_lines_match(lines, expected)
    assert [line["index"] for line in lines] == list(range(len(names)))

    # Plain batch ids still work: the same lines, each batch numbered from 0 as before.
    status, plain = run_cli("results", *batch_ids, *where)
    assert status == 0
    assert [json.loads(line)["name"] for line in plain.splitlines()] == names


def test_a_job_with_a_poisoned_batch_names_it_with_the_reason_and_fails(
    classifier: Classifier,
    store: S3BatchStore,
    settings: Settings,
    resources: topology.CreatedResources,
    sqs: SQSClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # mixed-00002 already holds another message's results: its message can never succeed.
    run_batch(
        {"batch_id": "mixed-00002", "names": ["Someone", "Else"]},
        classifier=classifier,
        store=store,
        settings=settings,
    )
    source = tmp_path / "mixed.txt"
    source.write_text("\n".join(sample_names(3 * PER_MESSAGE)) + "\n", encoding="utf-8")
    monkeypatch.setenv("NAMEORIGIN_MAX_BATCH_NAMES", str(PER_MESSAGE))
    where = ["--queue", resources.queue_url, "--bucket", resources.bucket]
    assert run_cli("submit", str(source), *where, "--job-id", "mixed", "--quiet") == (0, "mixed\n")

    output = tmp_path / "out.jsonl"
    with running_poller(
        sqs, resources.queue_url, classifier=classifier, store=store, settings=settings
    ):
        status, printed = run_cli(
            "results", "mixed", *where, "--dlq", resources.dlq_url, "--wait", "60",
            "--output", str(output),
        )  # fmt: skip
    err = capsys.readouterr().err
    assert (status, printed) == (1, "")
    assert (
        "batch mixed-00002 (2 of 3 of job mixed) failed: batch_id 'mixed-00002' "
        "already holds the results of a different message" in err
    )
    assert "mixed-00001" not in err and "mixed-00003" not in err
    assert "1 batch(es) failed; no results written" in err
    assert not output.exists()


def test_a_job_whose_message_reached_the_dlq_says_so_with_the_reason(
    classifier: Classifier,
    store: S3BatchStore,
    settings: Settings,
    resources: topology.CreatedResources,
    sqs: SQSClient,
    s3: S3Client,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = tmp_path / "gone.txt"
    source.write_text("\n".join(sample_names(300)) + "\n", encoding="utf-8")
    where = ["--queue", resources.queue_url, "--bucket", resources.bucket]
    status, printed = run_cli(
        "submit", str(source), *where, "--reference-threshold", "100", "--quiet"
    )
    assert status == 0
    manifest = stored_manifest(s3, resources.bucket, printed.strip())
    uri = manifest["source"]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    s3.delete_object(Bucket=bucket, Key=key)  # the claim check now points at nothing

    with running_poller(
        sqs, resources.queue_url, classifier=classifier, store=store, settings=settings
    ):
        status, _ = run_cli(
            "results", printed.strip(), *where, "--dlq", resources.dlq_url, "--wait", "60"
        )
    err = capsys.readouterr().err
    assert status == 1
    batch_id = manifest["batches"][0]["batch_id"]
    assert f"batch {batch_id} (1 of 1 of job {printed.strip()}) failed: in the DLQ: " in err
    assert f"invalid: cannot read {uri}" in err


def test_renumbering_survives_lines_split_across_blocks() -> None:
    lines = [{"index": i, "name": f"N{i}é"} for i in range(5)]
    raw = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
    written = bytearray()
    renumber = Renumber(written.extend, 100)
    for start in range(0, len(raw), 7):
        renumber(raw[start : start + 7])
    renumber.close()
    assert [json.loads(line)["index"] for line in written.decode().splitlines()] == [
        100, 101, 102, 103, 104,
    ]  # fmt: skip
