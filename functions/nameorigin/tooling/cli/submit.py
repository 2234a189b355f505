"""``nameorigin-batch submit``: a names file as inline messages, or uploaded as one claim check.

Either way the file becomes one job: its manifest (``jobs/<job_id>.json`` in the results bucket)
lists the batch ids in input order, and the job id alone is printed, for ``results JOB_ID``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from nameorigin.batch.job_manifest import (
    DERIVED_JOB_PREFIX,
    JobBatch,
    JobManifest,
    write_manifest,
)
from nameorigin.batch.messages import (
    FileFormat,
    InlineBatch,
    InvalidBatchMessageError,
    ReferenceBatch,
    batch_id_of,
    content_digest,
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


@dataclass(frozen=True)
class FileFacts:
    """What the manifest records about the submitted file."""

    sha256: str
    size: int
    lines: int


def file_facts(path: Path) -> FileFacts:
    """sha256, size and line count of a file, in one pass (the last line may lack its newline)."""
    digest = hashlib.sha256()
    size = lines = 0
    last = b"\n"
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
            lines += block.count(b"\n")
            last = block[-1:]
    return FileFacts(digest.hexdigest(), size, lines + (last != b"\n"))


def recorded(
    messages: Iterable[InlineBatch | ReferenceBatch], into: list[JobBatch]
) -> Iterator[InlineBatch | ReferenceBatch]:
    """Pass messages through, noting each as a JobBatch of the manifest (in sending order)."""
    for message in messages:
        names = len(message.names) if isinstance(message, InlineBatch) else None
        into.append(
            JobBatch(
                batch_id=batch_id_of(message), message_sha256=content_digest(message), names=names
            )
        )
        yield message


def derived_job_id(batch_ids: Sequence[str]) -> str:
    """A job id from its batch ids (content-derived themselves): the same file, the same job."""
    return DERIVED_JOB_PREFIX + hashlib.sha256("\n".join(batch_ids).encode()).hexdigest()[:32]


def upload_source(
    s3: S3Client, bucket: str, prefix: str, path: Path, sha256: str, show_progress: bool
) -> str:
    """Upload a file under a content-addressed key (resubmitting it reuses key and batch id)."""
    key = f"{prefix}{sha256}/{path.name}"
    bar = progress(path.stat().st_size, "B", f"uploading {path.name}", show_progress)
    try:
        s3.upload_file(str(path), bucket, key, Config=DEFAULT_TRANSFER, Callback=bar.update)
    finally:
        bar.close()
    return f"s3://{bucket}/{key}"


def submit(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """Send a file as one job: inline messages or one claim check, then the job's manifest."""
    aws = Aws(args.endpoint_url, args.region)
    queue_url = aws.queue_url(args.queue or settings.batch_queue, "queue")
    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"{path} is not a file")
    bucket = args.bucket or settings.results_bucket
    if not bucket:
        raise CliError(
            "the job's manifest goes to the results bucket: pass --bucket or set "
            "NAMEORIGIN_RESULTS_BUCKET"
        )
    file_format = FileFormat(args.format) if args.format else None
    probe = ReferenceBatch(s3_uri=f"s3://local-file/{path.name}", format=file_format)
    try:
        resolved = probe.resolved_format()
    except InvalidBatchMessageError as error:
        raise CliError(error.reason) from error
    facts = file_facts(path)
    names: int | None = None
    if facts.size > args.reference_threshold and not args.inline:
        source = upload_source(
            aws.s3, bucket, settings.upload_prefix, path, facts.sha256, not args.quiet
        )
        batches = _send_reference(aws.sqs, queue_url, source, args, settings)
    else:
        source = "inline"
        batches = _send_inline(aws.sqs, queue_url, path, resolved, args, settings)
        names = sum(batch.names or 0 for batch in batches)
    batch_ids = [batch.batch_id for batch in batches]
    manifest = JobManifest(
        job_id=args.batch_id or derived_job_id(batch_ids),
        input_file=path.name,
        input_bytes=facts.size,
        input_sha256=facts.sha256,
        format=resolved,
        lines=facts.lines,
        names=names,
        top_k=args.top_k,
        source=source,
        batches=batches,
        created_at=datetime.now(UTC),
    )
    key = write_manifest(aws.s3, bucket, manifest)
    print(manifest.job_id, file=out)
    print(
        f"job {manifest.job_id}: {len(batch_ids)} batch(es)"
        + (f", {names} names" if names is not None else "")
        + f"; manifest s3://{bucket}/{key}",
        file=sys.stderr,
    )
    return 0


def _send_reference(
    sqs: SQSClient, queue_url: str, uri: str, args: argparse.Namespace, settings: Settings
) -> list[JobBatch]:
    """One claim-check message for the uploaded file."""
    file_format = FileFormat(args.format) if args.format else None
    reference = ReferenceBatch(
        s3_uri=uri, format=file_format, top_k=args.top_k, batch_id=args.batch_id
    )
    reference = reference.model_copy(update={"batch_id": batch_id_of(reference)})
    batches: list[JobBatch] = []
    for _ in send_messages(
        sqs, queue_url, recorded([reference], batches), settings.max_message_bytes
    ):
        pass
    return batches


def _send_inline(
    sqs: SQSClient,
    queue_url: str,
    path: Path,
    file_format: FileFormat,
    args: argparse.Namespace,
    settings: Settings,
) -> list[JobBatch]:
    """The file's names packed into inline messages and sent, in input order."""
    size = path.stat().st_size
    bar = progress(None, "names", f"sending {path.name}", not args.quiet and size > 1 << 20)
    batches: list[JobBatch] = []
    try:
        with path.open("rb") as handle:
            messages = pack_messages(
                iter_names(handle, file_format),
                top_k=args.top_k,
                batch_id=args.batch_id,
                max_names=settings.max_batch_names,
                max_bytes=settings.max_message_bytes,
                on_names=bar.update,
            )
            for _ in send_messages(
                sqs, queue_url, recorded(messages, batches), settings.max_message_bytes
            ):
                pass
    except InvalidBatchMessageError as error:
        raise CliError(f"{path}: {error.reason}") from error
    finally:
        bar.close()
    if not batches:
        raise CliError(f"{path} holds no names")
    return batches
