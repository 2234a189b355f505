"""S3BatchStore against moto: deterministic keys, missing summaries, unreadable sources."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

from nameorigin.batch.messages import InvalidBatchMessageError, ReferenceBatch
from nameorigin.batch.store import S3BatchStore
from nameorigin.config import ConfigError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def test_keys_depend_only_on_the_batch_id(store: S3BatchStore) -> None:
    assert store.results_key("b-1") == "results/b-1.jsonl"
    assert store.summary_key("b-1") == "results/b-1.summary.json"


def test_a_missing_summary_means_not_done_but_a_missing_bucket_is_an_error(
    store: S3BatchStore, s3: S3Client
) -> None:
    assert store.read_summary("nothing-yet") is None
    with pytest.raises(ClientError, match="NoSuchBucket"):
        S3BatchStore(s3, "no-such-bucket").read_summary("x")


def test_results_are_stored_as_ndjson(store: S3BatchStore, s3: S3Client) -> None:
    key = store.write_results("b-2", io.BytesIO(b'{"index": 0}\n'))
    head = s3.head_object(Bucket=store.bucket, Key=key)
    assert head["ContentType"] == "application/x-ndjson" and head["ContentLength"] == 13


def test_an_unreadable_source_is_the_messages_fault(store: S3BatchStore) -> None:
    message = ReferenceBatch(s3_uri="s3://no-such-bucket/names.txt")
    with (
        pytest.raises(InvalidBatchMessageError, match="NoSuchBucket"),
        store.open_source(message, max_bytes=1_000),
    ):
        pass


def test_a_store_without_a_bucket_is_a_configuration_error(s3: S3Client) -> None:
    with pytest.raises(ConfigError, match="NAMEORIGIN_RESULTS_BUCKET"):
        S3BatchStore(s3, "")
