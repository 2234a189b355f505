"""``nameorigin-batch submit``: a names file as inline messages, or uploaded as one claim check."""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from nameorigin.batch.messages import (
    FileFormat,
    InlineBatch,
    InvalidBatchMessageError,
    ReferenceBatch,
    batch_id_of,
)
from nameorigin.batch.readers import iter_names
from nameorigin.batch.store import DEFAULT_TRANSFER
from nameorigin.config import Settings
from nameorigin.tooling.cli.aws import SEND_BATCH_MAX_ENTRIES, Aws, CliError, progress

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

#: Files larger than this are uploaded and sent as one claim check instead of inline chunks.
DEFAULT_REFERENCE_THRESHOLD_BYTES = 8 * 1024 * 1024


def pack_messages(
    names: Iterable[str],
    *,
    top_k: int,
    batch_id: str | None,
    max_names: int,
    max_bytes: int,
    on_names: Callable[[int], None] = lambda count: None,
) -> Iterator[InlineBatch]:
    """Greedily pack names into inline messages within both the name-count and byte limits."""
    overhead = len(json.dumps({"batch_id": "x" * 128, "top_k": top_k, "names": []}).encode())
    current: list[str] = []
    size = overhead
    number = 0

    def emit() -> InlineBatch:
        nonlocal number
        number += 1
        own_id = None if batch_id is None else f"{batch_id}-{number:05d}"
        message = InlineBatch(names=list(current), top_k=top_k, batch_id=own_id)
        return message.model_copy(update={"batch_id": batch_id_of(message)})

    for name in names:
        cost = len(json.dumps(name).encode()) + 1
        if overhead + cost > max_bytes:
            raise CliError(f"a single name is larger than the {max_bytes}-byte message limit")
        if current and (len(current) >= max_names or size + cost > max_bytes):
            on_names(len(current))
            yield emit()
            current, size = [], overhead
        current.append(name)
        size += cost
    if current:
        on_names(len(current))
        yield emit()


def _body(message: InlineBatch | ReferenceBatch) -> str:
    return message.model_dump_json(exclude_none=True)


def send_messages(
    sqs: SQSClient,
    queue_url: str,
    messages: Iterable[InlineBatch | ReferenceBatch],
    max_bytes: int,
) -> Iterator[str]:
    """SendMessageBatch in groups within SQS's 10-entry and total-size limits; yields batch ids."""
    group: list[tuple[str, str]] = []
    group_bytes = 0
    for message in messages:
        body = _body(message)
        size = len(body.encode())
        if size > max_bytes:
            raise CliError(
                f"message for batch {message.batch_id} is {size} bytes; the limit is {max_bytes}"
            )
        if group and (len(group) >= SEND_BATCH_MAX_ENTRIES or group_bytes + size > max_bytes):
            _send_group(sqs, queue_url, group)
            yield from (batch_id for batch_id, _ in group)
            group, group_bytes = [], 0
        group.append((str(message.batch_id), body))
        group_bytes += size
    if group:
        _send_group(sqs, queue_url, group)
        yield from (batch_id for batch_id, _ in group)


def _send_group(sqs: SQSClient, queue_url: str, group: Sequence[tuple[str, str]]) -> None:
    entries: list[SendMessageBatchRequestEntryTypeDef] = [
        {"Id": str(i), "MessageBody": body} for i, (_, body) in enumerate(group)
    ]
    for _attempt in range(3):
        response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        failed = {item["Id"]: item for item in response.get("Failed", [])}
        if not failed:
            return
        permanent = [item for item in failed.values() if item.get("SenderFault")]
        if permanent:
            raise CliError(f"SQS refused a message: {permanent[0].get('Message', permanent[0])}")
        entries = [entry for entry in entries if entry["Id"] in failed]
        time.sleep(1)
    raise CliError(f"SQS kept failing {len(entries)} messages; they were not sent")


def upload_source(s3: S3Client, bucket: str, prefix: str, path: Path, show_progress: bool) -> str:
    """Upload a file under a content-addressed key (resubmitting it reuses key and batch id)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    key = f"{prefix}{digest.hexdigest()}/{path.name}"
    bar = progress(path.stat().st_size, "B", f"uploading {path.name}", show_progress)
    try:
        s3.upload_file(str(path), bucket, key, Config=DEFAULT_TRANSFER, Callback=bar.update)
    finally:
        bar.close()
    return f"s3://{bucket}/{key}"


def submit(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """Send a file of names as inline messages, or upload it and send a claim check."""
    aws = Aws(args.endpoint_url, args.region)
    queue_url = aws.queue_url(args.queue or settings.batch_queue, "queue")
    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"{path} is not a file")
    file_format = FileFormat(args.format) if args.format else None
    size = path.stat().st_size
    if size > args.reference_threshold and not args.inline:
        bucket = args.bucket or settings.results_bucket
        if not bucket:
            raise CliError(
                "large files go by reference: pass --bucket or NAMEORIGIN_RESULTS_BUCKET"
            )
        uri = upload_source(aws.s3, bucket, settings.upload_prefix, path, not args.quiet)
        reference = ReferenceBatch(
            s3_uri=uri, format=file_format, top_k=args.top_k, batch_id=args.batch_id
        )
        reference = reference.model_copy(update={"batch_id": batch_id_of(reference)})
        for batch_id in send_messages(aws.sqs, queue_url, [reference], settings.max_message_bytes):
            print(batch_id, file=out)
        return 0
    probe = ReferenceBatch(s3_uri=f"s3://local-file/{path.name}", format=file_format)
    try:
        resolved = probe.resolved_format()
    except InvalidBatchMessageError as error:
        raise CliError(error.reason) from error
    bar = progress(None, "names", f"sending {path.name}", not args.quiet and size > 1 << 20)
    sent = 0
    try:
        with path.open("rb") as handle:
            messages = pack_messages(
                iter_names(handle, resolved),
                top_k=args.top_k,
                batch_id=args.batch_id,
                max_names=settings.max_batch_names,
                max_bytes=settings.max_message_bytes,
                on_names=bar.update,
            )
            for batch_id in send_messages(aws.sqs, queue_url, messages, settings.max_message_bytes):
                print(batch_id, file=out)
                sent += 1
    except InvalidBatchMessageError as error:
        raise CliError(f"{path}: {error.reason}") from error
    finally:
        bar.close()
    if sent == 0:
        raise CliError(f"{path} holds no names")
    return 0
