"""run_batch against a real (moto) S3 over HTTP: results, idempotency, failures, claim checks."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING

import jsonschema
import pytest
from batch_aws import (
    FailingWrites,
    assert_lines_match,
    expected_lines,
    keys,
    sample_names,
    stored_lines,
)
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from nameorigin.batch.jobs import InvalidBatchMessageError, run_batch
from nameorigin.batch.store import S3BatchStore
from nameorigin.config import Settings
from nameorigin.core.classifier import Classifier
from nameorigin.tooling.generate import SCHEMA_DIR

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

LINE_SCHEMA = json.loads((SCHEMA_DIR / "result-line.schema.json").read_text(encoding="utf-8"))


def test_inline_batch_matches_the_classifier_in_order_with_rejects_in_their_lines(
    classifier: Classifier, store: S3BatchStore, settings: Settings, s3: S3Client
) -> None:
    names = sample_names(2_500)
    summary = run_batch(
        {"batch_id": "inline-1", "names": names, "top_k": 2},
        classifier=classifier,
        store=store,
        settings=settings,
    )
    lines = stored_lines(s3, summary)
    assert_lines_match(lines, expected_lines(classifier, names, 2))
    for line in lines[:50] + lines[-5:]:
        jsonschema.validate(line, LINE_SCHEMA)
    assert (summary.count, summary.rejected, summary.classified) == (2_500, 3, 2_497)
    assert summary.rejected_by_reason == {"empty": 2, "no_letters": 1}
    assert [problem.index for problem in summary.problems] == [0, 1_250, 2_499]
    assert summary.model.sha256 == classifier.manifest.model_sha256
    assert keys(s3, store.bucket) == ["results/inline-1.jsonl", "results/inline-1.summary.json"]
    assert store.read_summary("inline-1") == summary


def test_redelivery_returns_the_stored_summary_and_writes_nothing_new(
    classifier: Classifier, store: S3BatchStore, settings: Settings, s3: S3Client
) -> None:
    body = json.dumps({"names": ["Jordan", "Rossi"]})
    first = run_batch(body, classifier=classifier, store=store, settings=settings)
    etag = s3.head_object(Bucket=store.bucket, Key=first.results.key)["ETag"]
    again = run_batch(body, classifier=classifier, store=store, settings=settings)
    assert again.already_done and not first.already_done
    assert again.model_copy(update={"already_done": False}) == first
    assert s3.head_object(Bucket=store.bucket, Key=first.results.key)["ETag"] == etag
    assert len(keys(s3, store.bucket)) == 2


def test_a_crash_before_the_summary_is_redone_into_the_same_single_object(
    classifier: Classifier, store: S3BatchStore, settings: Settings, s3: S3Client
) -> None:
    message = {"batch_id": "crashy", "names": sample_names(300)}
    first = run_batch(message, classifier=classifier, store=store, settings=settings)
    s3.delete_object(Bucket=store.bucket, Key=store.summary_key("crashy"))  # died before it
    second = run_batch(message, classifier=classifier, store=store, settings=settings)
    assert not second.already_done
    assert second.results.sha256 == first.results.sha256
    assert keys(s3, store.bucket) == ["results/crashy.jsonl", "results/crashy.summary.json"]


def test_a_batch_id_reused_by_another_message_is_refused_and_keeps_the_first_results(
    classifier: Classifier, store: S3BatchStore, settings: Settings, s3: S3Client
) -> None:
    first = run_batch(
        {"batch_id": "dup", "names": ["Jordan"]},
        classifier=classifier,
        store=store,
        settings=settings,
    )
    with pytest.raises(InvalidBatchMessageError, match="already holds the results"):
        run_batch(
            {"batch_id": "dup", "names": ["Other"]},
            classifier=classifier,
            store=store,
            settings=settings,
        )
    assert stored_lines(s3, first)[0]["name"] == "Jordan"


def test_a_results_write_failure_propagates_leaves_nothing_and_the_retry_completes(
    classifier: Classifier, settings: Settings, s3: S3Client
) -> None:
    store = FailingWrites(s3, settings.results_bucket)
    message = {"batch_id": "flaky", "names": ["Jordan", "Rossi"]}
    with pytest.raises(ClientError, match="SlowDown"):
        run_batch(message, classifier=classifier, store=store, settings=settings)
    assert keys(s3, store.bucket) == []  # nothing acknowledged, nothing half-written
    summary = run_batch(message, classifier=classifier, store=store, settings=settings)
    assert summary.count == 2
    assert keys(s3, store.bucket) == ["results/flaky.jsonl", "results/flaky.summary.json"]


def test_a_large_claim_check_file_streams_in_chunks_and_uploads_in_parts(
    classifier: Classifier, settings: Settings, s3: S3Client, tmp_path: Path
) -> None:
    names = sample_names(40_000, seed=11)
    source = tmp_path / "names.jsonl"
    source.write_text("".join(json.dumps(name) + "\n" for name in names), encoding="utf-8")
    s3.upload_file(str(source), settings.results_bucket, "uploads/big/names.jsonl")
    mib = 1024 * 1024
    store = S3BatchStore(
        s3,
        settings.results_bucket,
        transfer_config=TransferConfig(multipart_threshold=5 * mib, multipart_chunksize=5 * mib),
    )
    chunked = dataclasses.replace(settings, stream_chunk_names=3_000)
    uri = f"s3://{settings.results_bucket}/uploads/big/names.jsonl"
    summary = run_batch(
        {"s3_uri": uri, "top_k": 3}, classifier=classifier, store=store, settings=chunked
    )
    assert summary.source == uri and summary.source_etag
    assert summary.count == 40_000 and summary.rejected == 3
    assert_lines_match(stored_lines(s3, summary), expected_lines(classifier, names, 3))
    etag = s3.head_object(Bucket=store.bucket, Key=summary.results.key)["ETag"]
    assert "-" in etag  # a multipart ETag: the object appeared only when the upload completed
    assert summary.results.bytes > 5 * mib


@pytest.mark.parametrize(
    ("content", "changes", "reason"),
    [
        (None, {}, "cannot read s3://.*: NoSuchKey"),
        (b"", {}, "holds no names"),
        (b"Smith\n" * 100, {"max_object_bytes": 500}, "600 bytes; the limit is 500"),
        (b"Smith\n" * 100, {"max_object_names": 50, "stream_chunk_names": 20}, "more than 50"),
    ],
)
def test_claim_check_problems_are_permanent_and_write_nothing(
    content: bytes | None,
    changes: dict[str, int],
    reason: str,
    classifier: Classifier,
    store: S3BatchStore,
    settings: Settings,
    s3: S3Client,
) -> None:
    if content is not None:
        s3.put_object(Bucket=store.bucket, Key="uploads/x/names.txt", Body=content)
    message = {"s3_uri": f"s3://{store.bucket}/uploads/x/names.txt"}
    limited = dataclasses.replace(settings, **changes)
    with pytest.raises(InvalidBatchMessageError, match=reason):
        run_batch(message, classifier=classifier, store=store, settings=limited)
    assert keys(s3, store.bucket) == []


def test_top_k_beyond_the_models_labels_is_refused(
    classifier: Classifier, store: S3BatchStore, settings: Settings
) -> None:
    with pytest.raises(InvalidBatchMessageError, match="the model knows 18 labels"):
        run_batch(
            {"names": ["a"], "top_k": 19}, classifier=classifier, store=store, settings=settings
        )
