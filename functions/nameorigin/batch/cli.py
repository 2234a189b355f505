"""``nameorigin-batch``: submit batches, collect results, inspect and redrive the DLQ, run locally.

Works against AWS or any endpoint (``--endpoint-url`` or boto3's own ``AWS_ENDPOINT_URL``). Queue,
DLQ and bucket come from flags or from ``NAMEORIGIN_BATCH_QUEUE``, ``NAMEORIGIN_BATCH_DLQ`` and
``NAMEORIGIN_RESULTS_BUCKET`` (read through ``Settings``). Batch ids go to stdout, one a line, and
everything meant for people goes to stderr, so ``ids=$(nameorigin-batch submit names.txt)`` works.
"""

from __future__ import annotations

import argparse
import codecs
import hashlib
import json
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from nameorigin.batch import topology
from nameorigin.batch.messages import (
    FileFormat,
    InlineBatch,
    InvalidBatchMessageError,
    ReferenceBatch,
    batch_id_of,
    parse_message,
)
from nameorigin.batch.readers import iter_names
from nameorigin.batch.results import BatchSummary
from nameorigin.batch.store import DEFAULT_TRANSFER, S3BatchStore
from nameorigin.config import ConfigError, Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef, SendMessageBatchRequestEntryTypeDef

#: Files larger than this are uploaded and sent as one claim check instead of inline chunks.
DEFAULT_REFERENCE_THRESHOLD_BYTES = 8 * 1024 * 1024
SEND_BATCH_MAX_ENTRIES = 10
EXIT_FAILURE, EXIT_TIMEOUT = 1, 2


class CliError(RuntimeError):
    """A problem the user can fix; printed without a traceback."""


# --------------------------------------------------------------------------------------------
# AWS plumbing
# --------------------------------------------------------------------------------------------


class Aws:
    """boto3 clients for one endpoint/region, and queue names resolved to URLs."""

    def __init__(self, endpoint_url: str | None, region: str | None) -> None:
        session = boto3.session.Session(region_name=region)
        self.sqs: SQSClient = session.client("sqs", endpoint_url=endpoint_url)
        self.s3: S3Client = session.client("s3", endpoint_url=endpoint_url)

    def queue_url(self, name_or_url: str, what: str) -> str:
        """A queue URL from a URL or a name (``GetQueueUrl``)."""
        if not name_or_url:
            raise CliError(f"no {what} given: pass --{what} or set NAMEORIGIN_BATCH_{what.upper()}")
        if name_or_url.startswith(("http://", "https://")):
            return name_or_url
        return self.sqs.get_queue_url(QueueName=name_or_url)["QueueUrl"]


def _progress(total: int | None, unit: str, description: str, enabled: bool) -> Any:
    """A tqdm bar on stderr (the ``cli`` extra), or a silent stand-in when disabled or absent."""
    try:
        from tqdm import tqdm  # type: ignore[import-untyped]  # noqa: PLC0415 - CLI only
    except ImportError:  # pragma: no cover - depends on the installed extras
        enabled = False
    if not enabled:
        return _NoProgress()
    return tqdm(total=total, unit=unit, unit_scale=True, desc=description, file=sys.stderr)


class _NoProgress:
    def update(self, count: int) -> None:
        """Ignore."""

    def close(self) -> None:
        """Ignore."""


# --------------------------------------------------------------------------------------------
# submit
# --------------------------------------------------------------------------------------------


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
    bar = _progress(path.stat().st_size, "B", f"uploading {path.name}", show_progress)
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
    bar = _progress(None, "names", f"sending {path.name}", not args.quiet and size > 1 << 20)
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


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


def wait_for_summary(store: S3BatchStore, batch_id: str, wait_seconds: float) -> BatchSummary:
    """Poll for the batch's summary (the marker of a complete batch) until it appears."""
    deadline = time.monotonic() + wait_seconds
    delay = 0.2
    while True:
        summary = store.read_summary(batch_id)
        if summary is not None:
            return summary
        if time.monotonic() >= deadline:
            raise TimeoutError(f"batch {batch_id} has no results after {wait_seconds:g} s")
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 5.0)


def fetch_results(
    store: S3BatchStore, summary: BatchSummary, write: Callable[[bytes], Any]
) -> None:
    """Copy the results object through ``write``, checking it against the summary's sha256."""
    response = store.client.get_object(Bucket=summary.results.bucket, Key=summary.results.key)
    digest = hashlib.sha256()
    for block in response["Body"].iter_chunks(1 << 20):
        digest.update(block)
        write(block)
    if digest.hexdigest() != summary.results.sha256:
        raise CliError(
            f"results of {summary.batch_id} do not match their summary's sha256 "
            "(rewritten meanwhile by another delivery?): fetch again"
        )


def _text_writer(out: TextIO) -> Callable[[bytes], Any]:
    """Write UTF-8 bytes to a text stream, never splitting a character across blocks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    return lambda block: out.write(decoder.decode(block))


def results(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """Wait for batches and print (or save) their results in the order the ids were given."""
    aws = Aws(args.endpoint_url, args.region)
    store = S3BatchStore(aws.s3, args.bucket or settings.results_bucket, settings.results_prefix)
    summaries = []
    for batch_id in args.batch_ids:
        try:
            summaries.append(wait_for_summary(store, batch_id, args.wait))
        except TimeoutError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_TIMEOUT
    if args.summary_only:
        for summary in summaries:
            out.write(summary.model_dump_json(indent=2) + "\n")
        return 0
    with ExitStack() as stack:
        write = (
            stack.enter_context(Path(args.output).open("wb")).write
            if args.output
            else _text_writer(out)
        )
        for summary in summaries:
            fetch_results(store, summary, write)
            print(_summary_line(summary), file=sys.stderr)
    return 0


def _summary_line(summary: BatchSummary) -> str:
    return (
        f"{summary.batch_id}: {summary.count} names, {summary.rejected} rejected "
        f"{dict(summary.rejected_by_reason) or ''}, model {summary.model.version}, "
        f"s3://{summary.results.bucket}/{summary.results.key}"
    )


# --------------------------------------------------------------------------------------------
# dlq
# --------------------------------------------------------------------------------------------


def peek_all(sqs: SQSClient, queue_url: str, hold_seconds: int = 30) -> list[MessageTypeDef]:
    """Every message on the queue, received once and made visible again right away."""
    seen: dict[str, MessageTypeDef] = {}
    while True:
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=SEND_BATCH_MAX_ENTRIES,
            VisibilityTimeout=hold_seconds,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        batch = [m for m in response.get("Messages", []) if m["MessageId"] not in seen]
        if not batch:
            break
        seen.update({m["MessageId"]: m for m in batch})
    release(sqs, queue_url, list(seen.values()))
    return list(seen.values())


def release(sqs: SQSClient, queue_url: str, messages: Sequence[MessageTypeDef]) -> None:
    """Make received messages visible again (visibility timeout 0)."""
    for start in range(0, len(messages), SEND_BATCH_MAX_ENTRIES):
        chunk = messages[start : start + SEND_BATCH_MAX_ENTRIES]
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(chunk)
            ],
        )


def diagnose(body: str, settings: Settings) -> str:
    """Why a dead-lettered message failed, as far as the message itself can tell."""
    try:
        message = parse_message(
            body,
            max_message_bytes=settings.max_message_bytes,
            max_batch_names=settings.max_batch_names,
        )
    except InvalidBatchMessageError as error:
        return f"invalid: {error.reason}"
    kind = "claim check" if isinstance(message, ReferenceBatch) else "inline"
    return (
        f"valid {kind} message (batch {batch_id_of(message)}): it failed at processing time "
        "(missing or malformed file, conflicting batch_id, or repeated transient errors): "
        "see the function's logs"
    )


def dlq(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """List dead-lettered messages with a diagnosis, or move them back to the queue."""
    aws = Aws(args.endpoint_url, args.region)
    dlq_url = aws.queue_url(args.dlq or settings.batch_dlq, "dlq")
    if args.action == "list":
        for message in peek_all(aws.sqs, dlq_url):
            body = message["Body"]
            record = {
                "message_id": message["MessageId"],
                "receive_count": int(
                    message.get("Attributes", {}).get("ApproximateReceiveCount", 0)
                ),
                "sent_at": _iso(message.get("Attributes", {}).get("SentTimestamp")),
                "diagnosis": diagnose(body, settings),
                "body": body if len(body) <= args.body_chars else body[: args.body_chars] + "…",
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return 0
    queue_url = aws.queue_url(args.queue or settings.batch_queue, "queue")
    moved = redrive(aws.sqs, dlq_url, queue_url, set(args.message_id or []), out)
    print(f"redrove {moved} message(s) to {queue_url}", file=sys.stderr)
    return 0


def redrive(sqs: SQSClient, dlq_url: str, queue_url: str, wanted: set[str], out: TextIO) -> int:
    """Move messages (all, or those in ``wanted``) from the DLQ back to the queue.

    Each is sent to the queue before it is deleted from the DLQ: a crash in between duplicates a
    message (harmless, batches are idempotent) and never loses one.
    """
    seen: set[str] = set()
    skipped: list[MessageTypeDef] = []
    moved = 0
    while True:
        response = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=SEND_BATCH_MAX_ENTRIES,
            VisibilityTimeout=60,
            WaitTimeSeconds=0,
        )
        batch = [m for m in response.get("Messages", []) if m["MessageId"] not in seen]
        if not batch:
            break
        for message in batch:
            seen.add(message["MessageId"])
            if wanted and message["MessageId"] not in wanted:
                skipped.append(message)
                continue
            sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            print(message["MessageId"], file=out)
            moved += 1
    release(sqs, dlq_url, skipped)
    return moved


def _iso(millis: str | None) -> str | None:
    if millis is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(millis) / 1000))


# --------------------------------------------------------------------------------------------
# local-up / poll
# --------------------------------------------------------------------------------------------


def local_up(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """Create the template's queue, DLQ and bucket on a local endpoint (moto)."""
    if not args.endpoint_url:
        raise CliError("local-up creates resources outside CloudFormation: give --endpoint-url")
    aws = Aws(args.endpoint_url, args.region)
    _wait_for_endpoint(aws, args.wait_for_endpoint)
    shape = topology.Topology().with_visibility_timeout(args.visibility_timeout)
    created = topology.create(shape, aws.sqs, aws.s3)
    out.write(
        f"queue {created.queue_url}\ndlq {created.dlq_url}\nbucket {created.bucket}\n"
        f"visibility timeout {shape.visibility_timeout_seconds} s, "
        f"maxReceiveCount {shape.max_receive_count}\n"
    )
    return 0


def _wait_for_endpoint(aws: Aws, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            aws.sqs.list_queues()
            return
        except (BotoCoreError, ClientError):
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


def poll(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """Run the local event source mapping until interrupted."""
    from nameorigin.batch.poller import LocalEventSourceMapping, load_handler  # noqa: PLC0415

    logging.basicConfig(level=logging.INFO, format="%(asctime)s poller %(message)s")
    aws = Aws(args.endpoint_url, args.region)
    shape = topology.Topology()
    mapping = LocalEventSourceMapping(
        aws.sqs,
        aws.queue_url(args.queue or settings.batch_queue, "queue"),
        load_handler(args.handler),
        batch_size=args.batch_size or shape.batch_size,
        batching_window_seconds=(
            shape.batching_window_seconds if args.batching_window is None else args.batching_window
        ),
        region=aws.sqs.meta.region_name,
        function_timeout_seconds=shape.function_timeout_seconds,
    )
    print(f"polling {mapping.queue_url} with {args.handler} (Ctrl-C stops)", file=sys.stderr)
    with suppress(KeyboardInterrupt):
        mapping.run()
    return 0


# --------------------------------------------------------------------------------------------
# argument parsing
# --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The ``nameorigin-batch`` command line."""
    parser = argparse.ArgumentParser(prog="nameorigin-batch", description=__doc__.split("\n")[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--endpoint-url", help="AWS endpoint (default: boto3's, AWS_ENDPOINT_URL)")
    common.add_argument("--region", help="AWS region (default: boto3's)")
    common.add_argument("--queue", help="batch queue name or URL (NAMEORIGIN_BATCH_QUEUE)")
    common.add_argument("--dlq", help="dead-letter queue name or URL (NAMEORIGIN_BATCH_DLQ)")
    common.add_argument("--bucket", help="results bucket (NAMEORIGIN_RESULTS_BUCKET)")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("submit", parents=[common], help="send a file of names")
    p.add_argument("file", help="names file: .txt (one a line), .csv or .jsonl")
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--batch-id", help="batch id (several messages get -00001, -00002 …)")
    p.add_argument("--format", choices=[f.value for f in FileFormat])
    p.add_argument(
        "--reference-threshold",
        type=int,
        default=DEFAULT_REFERENCE_THRESHOLD_BYTES,
        help="files above this many bytes are uploaded and sent as one s3_uri",
    )
    p.add_argument("--inline", action="store_true", help="never upload: always send inline")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=submit)

    p = commands.add_parser("results", parents=[common], help="wait for and print results")
    p.add_argument("batch_ids", nargs="+", metavar="BATCH_ID")
    p.add_argument("--wait", type=float, default=300, help="seconds to wait for each batch")
    p.add_argument("--output", "-o", help="save the JSONL here instead of printing it")
    p.add_argument("--summary-only", action="store_true", help="print the summaries instead")
    p.set_defaults(run=results)

    p = commands.add_parser("dlq", parents=[common], help="list or redrive dead letters")
    p.add_argument("action", choices=["list", "redrive"])
    p.add_argument("--message-id", action="append", help="redrive only these (repeatable)")
    p.add_argument("--body-chars", type=int, default=300, help="list: longest body shown")
    p.set_defaults(run=dlq)

    p = commands.add_parser("local-up", parents=[common], help="create queue/DLQ/bucket locally")
    p.add_argument("--visibility-timeout", type=int, help="override the template's (seconds)")
    p.add_argument("--wait-for-endpoint", type=float, default=10, help="seconds")
    p.set_defaults(run=local_up)

    p = commands.add_parser("poll", parents=[common], help="run the local event source mapping")
    p.add_argument("--handler", default="nameorigin.batch.handler.lambda_handler")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--batching-window", type=float)
    p.set_defaults(run=poll)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of ``nameorigin-batch``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_environ()
        status: int = args.run(args, settings, out or sys.stdout)
    except (CliError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except (BotoCoreError, ClientError) as error:
        print(f"error: AWS: {error}", file=sys.stderr)
        return EXIT_FAILURE
    return status


if __name__ == "__main__":
    sys.exit(main())
