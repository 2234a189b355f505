"""One batch, start to finish: validate the message, classify in chunks, publish results, summarize.

This is the single entry point every transport shares: the SQS Lambda (``lambda_batch.handler``),
the local poller, and the Knative CloudEvents endpoint all call ``run_batch`` with the same message
and get the same results objects. Transports differ only in what they do with its two kinds of
failure.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any

from nameorigin.batch.messages import (
    BatchMessage,
    InlineBatch,
    InvalidBatchMessageError,
    ReferenceBatch,
    batch_id_of,
    content_digest,
    parse_message,
)
from nameorigin.batch.readers import chunked, iter_names
from nameorigin.batch.results import BatchSummary, ModelInfo, ResultsObject, Timings
from nameorigin.batch.store import S3BatchStore
from nameorigin.batch.writer import ResultSpool
from nameorigin.config import Settings
from nameorigin.core.classifier import Classifier

__all__ = ["BatchSummary", "InvalidBatchMessageError", "run_batch", "validate_message"]


def validate_message(
    message_body: str | bytes | Mapping[str, Any], *, classifier: Classifier, settings: Settings
) -> BatchMessage:
    """The message ``run_batch`` would read, or ``InvalidBatchMessageError`` saying why it can
    never succeed, found without any storage: a transport can refuse a bad message (4xx, DLQ)
    before it needs its results bucket.
    """
    message = parse_message(
        message_body,
        max_message_bytes=settings.max_message_bytes,
        max_batch_names=settings.max_batch_names,
    )
    if message.top_k > len(classifier.labels):
        raise InvalidBatchMessageError(
            f"top_k is {message.top_k}; the model knows {len(classifier.labels)} labels"
        )
    return message


def run_batch(
    message_body: str | bytes | Mapping[str, Any] | BatchMessage,
    *,
    classifier: Classifier,
    store: S3BatchStore,
    settings: Settings,
) -> BatchSummary:
    """Run one batch message to completion and return its summary.

    ``message_body``: the raw SQS body / CloudEvent data (str or bytes of JSON), the parsed JSON
    object, or what ``validate_message`` returned for it. ``classifier``: usually the entry
    point's ``ModelStore.current()``. ``store``: usually ``S3BatchStore.from_settings(settings)``.
    ``settings``: the entry point's (limits, chunk size).

    Outcomes:

    - returns the summary once ``results/<batch_id>.jsonl`` and ``results/<batch_id>.summary.json``
      are written. A batch already complete for this same message is not redone: its stored summary
      comes back with ``already_done=True`` (redelivery is safe).
    - raises ``InvalidBatchMessageError`` (``.reason`` for people) when the message can never
      succeed: bad JSON, schema violation, too many names or bytes, top_k beyond the labels, missing
      or unreadable or malformed claim-check file, or a batch_id already used by another message.
      SQS: fail the record (it reaches the DLQ after maxReceiveCount). HTTP: answer 4xx.
    - lets anything else propagate (S3 write failure, throttling, network): transient, so retry.
      SQS: fail the record. HTTP: answer 5xx. Nothing is acknowledged that was not written.

    Rejected names (empty, no letters, too long) never fail a batch: each is reported in its line.
    """
    started_at, started = datetime.now(UTC), time.perf_counter()
    message = (
        message_body
        if isinstance(message_body, InlineBatch | ReferenceBatch)
        else validate_message(message_body, classifier=classifier, settings=settings)
    )
    batch_id, digest = batch_id_of(message), content_digest(message)
    existing = store.read_summary(batch_id)
    if existing is not None:
        if existing.message_sha256 != digest:
            raise InvalidBatchMessageError(
                f"batch_id {batch_id!r} already holds the results of a different message; "
                "choose a new batch_id (or omit it to derive one from the content)"
            )
        return existing.model_copy(update={"already_done": True})

    with ExitStack() as stack:
        spool = stack.enter_context(ResultSpool())
        source, etag = "inline", None
        if isinstance(message, InlineBatch):
            names: Iterator[list[str]] = chunked(message.names, settings.stream_chunk_names)
        else:
            file_format = message.resolved_format()  # before any S3 call: fail fast
            opened = stack.enter_context(store.open_source(message, settings.max_object_bytes))
            source, etag = message.s3_uri, opened.etag
            names = chunked(iter_names(opened.body, file_format), settings.stream_chunk_names)
        for chunk in names:
            if spool.lines + len(chunk) > settings.max_object_names:
                raise InvalidBatchMessageError(
                    f"{source} holds more than {settings.max_object_names} names "
                    "(NAMEORIGIN_MAX_OBJECT_NAMES): split it into several batches"
                )
            spool.add(classifier.classify(chunk, message.top_k))
        if spool.lines == 0:
            raise InvalidBatchMessageError(f"{source} holds no names")
        classified_at = time.perf_counter()
        key = store.write_results(batch_id, spool.rewind())
        written_at = time.perf_counter()
        summary = BatchSummary(
            batch_id=batch_id,
            message_sha256=digest,
            source=source,
            source_etag=etag,
            top_k=message.top_k,
            count=spool.lines,
            classified=spool.lines - spool.rejected,
            rejected=spool.rejected,
            rejected_by_reason=dict(spool.rejected_by_reason),
            problems=spool.problems,
            problems_truncated=spool.rejected > len(spool.problems),
            model=ModelInfo(
                version=classifier.manifest.model_version, sha256=classifier.manifest.model_sha256
            ),
            results=ResultsObject(
                bucket=store.bucket,
                key=key,
                bytes=spool.bytes,
                sha256=spool.sha256,
                lines=spool.lines,
            ),
            started_at=started_at,
            finished_at=datetime.now(UTC),
            timings=Timings(
                classify_seconds=round(classified_at - started, 4),
                write_seconds=round(written_at - classified_at, 4),
                total_seconds=round(written_at - started, 4),
            ),
        )
    store.write_summary(summary)
    return summary
