"""S3 for batches: read claim-check files, write results and summaries under deterministic keys.

Keys depend only on the batch id (``<prefix><batch_id>.jsonl``, ``<prefix><batch_id>.summary.json``)
so a redelivered message overwrites the same objects with the same content: never a second object,
never a merged one. Results go up through boto3's managed transfer (one PUT, or a multipart upload
that S3 shows only once completed and that s3transfer aborts on failure).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from nameorigin.batch.messages import InvalidBatchMessageError, ReferenceBatch
from nameorigin.batch.readers import ByteStream
from nameorigin.batch.results import BatchSummary
from nameorigin.config import ConfigError, Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

RESULTS_CONTENT_TYPE = "application/x-ndjson"
SUMMARY_SUFFIX = ".summary.json"
RESULTS_SUFFIX = ".jsonl"
#: Error codes that mean "this message points at something that is not there for us": permanent.
_UNREADABLE_SOURCE_CODES = {"NoSuchKey", "NoSuchBucket", "404", "AccessDenied", "403"}
#: Parts of 16 MiB: a million names (~130 MB of results) goes up in ~8 parts, 4 at a time.
DEFAULT_TRANSFER = TransferConfig(
    multipart_threshold=16 * 1024 * 1024,
    multipart_chunksize=16 * 1024 * 1024,
    max_concurrency=4,
)


@dataclass(frozen=True)
class SourceObject:
    """An open claim-check object: a stream of its bytes plus what identifies this version of it."""

    body: ByteStream
    size: int
    etag: str | None


class S3BatchStore:
    """Reads sources from and writes results to S3 (any endpoint: AWS, moto, …)."""

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        prefix: str = "results/",
        *,
        transfer_config: TransferConfig = DEFAULT_TRANSFER,
    ) -> None:
        if not bucket:
            raise ConfigError("NAMEORIGIN_RESULTS_BUCKET is not set: batches need a results bucket")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.transfer_config = transfer_config

    @classmethod
    def from_settings(cls, settings: Settings, client: S3Client | None = None) -> S3BatchStore:
        """A store for the configured bucket; boto3 itself honours AWS_ENDPOINT_URL(_S3)."""
        return cls(client or boto3.client("s3"), settings.results_bucket, settings.results_prefix)

    def results_key(self, batch_id: str) -> str:
        """Key of the batch's JSONL results."""
        return f"{self.prefix}{batch_id}{RESULTS_SUFFIX}"

    def summary_key(self, batch_id: str) -> str:
        """Key of the batch's summary (its presence marks the batch complete)."""
        return f"{self.prefix}{batch_id}{SUMMARY_SUFFIX}"

    def read_summary(self, batch_id: str) -> BatchSummary | None:
        """The stored summary, or None when the batch has not completed yet."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.summary_key(batch_id))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "NoSuchKey":
                return None
            raise
        return BatchSummary.model_validate_json(response["Body"].read())

    def write_results(self, batch_id: str, spool: IO[bytes]) -> str:
        """Upload the finished spool as the batch's results object; returns its key."""
        key = self.results_key(batch_id)
        self.client.upload_fileobj(
            spool,
            self.bucket,
            key,
            ExtraArgs={"ContentType": RESULTS_CONTENT_TYPE},
            Config=self.transfer_config,
        )
        return key

    def write_summary(self, summary: BatchSummary) -> None:
        """Store the summary: the last write of a batch."""
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.summary_key(summary.batch_id),
            Body=summary.model_dump_json(indent=2).encode(),
            ContentType="application/json",
        )

    @contextmanager
    def open_source(self, message: ReferenceBatch, max_bytes: int) -> Iterator[SourceObject]:
        """Stream a claim-check object; a missing, unreadable or oversize one is the message's fault

        Such faults raise InvalidBatchMessageError; anything else (throttling, network) propagates.
        """
        try:
            response = self.client.get_object(Bucket=message.bucket, Key=message.key)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _UNREADABLE_SOURCE_CODES:
                raise InvalidBatchMessageError(
                    f"cannot read {message.s3_uri}: {code} "
                    f"({error.response.get('Error', {}).get('Message', 'no details')})"
                ) from error
            raise
        body = response["Body"]
        try:
            size = response["ContentLength"]
            if size > max_bytes:
                raise InvalidBatchMessageError(
                    f"{message.s3_uri} is {size} bytes; the limit is {max_bytes} "
                    "(NAMEORIGIN_MAX_OBJECT_BYTES): split the file into several batches"
                )
            yield SourceObject(body=body, size=size, etag=response.get("ETag"))
        finally:
            body.close()
