"""``nameorigin-batch dlq``: list dead letters with a diagnosis, or move them back to the queue.

A whole-queue redrive is SQS's own message move task (``StartMessageMoveTask``): AWS moves every
message, in order, with no client in the loop. Only ``--message-id`` (a per-message filter, which
the native task cannot do) moves messages itself, and so does an endpoint without the API (moto
5.2.5 has none: the local queue), with the same send-then-delete order.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from botocore.exceptions import ClientError

from nameorigin.batch.messages import (
    BatchMessage,
    InvalidBatchMessageError,
    ReferenceBatch,
    batch_id_of,
    content_digest,
    parse_message,
)
from nameorigin.batch.store import S3BatchStore
from nameorigin.config import Settings
from nameorigin.tooling.cli.aws import SEND_BATCH_MAX_ENTRIES, Aws

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef


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


def diagnose(body: str, settings: Settings, store: S3BatchStore | None = None) -> str:
    """Why a dead-lettered message failed, as far as the message (and, given ``store``, the
    results bucket) can tell."""
    try:
        message = parse_message(
            body,
            max_message_bytes=settings.max_message_bytes,
            max_batch_names=settings.max_batch_names,
        )
    except InvalidBatchMessageError as error:
        return f"invalid: {error.reason}"
    known = _stored_fault(message, store) if store is not None else None
    if known is not None:
        return f"invalid: {known}"
    kind = "claim check" if isinstance(message, ReferenceBatch) else "inline"
    return (
        f"valid {kind} message (batch {batch_id_of(message)}): it failed at processing time "
        "(missing or malformed file, conflicting batch_id, or repeated transient errors): "
        "see the function's logs"
    )


def _stored_fault(message: BatchMessage, store: S3BatchStore) -> str | None:
    """The worker's reason for the faults the bucket shows: a batch id holding another message's
    results, or a claim check whose file is not there."""
    batch_id = batch_id_of(message)
    summary = store.read_summary(batch_id)
    if summary is not None and summary.message_sha256 != content_digest(message):
        return f"batch_id {batch_id!r} already holds the results of a different message"
    if isinstance(message, ReferenceBatch):
        try:
            store.client.head_object(Bucket=message.bucket, Key=message.key)
        except ClientError as error:
            return f"cannot read {message.s3_uri}: {error.response.get('Error', {}).get('Code')}"
    return None


def message_batch_id(body: str, settings: Settings) -> str | None:
    """The batch id a message body stands for, or None when it is no valid message."""
    try:
        message = parse_message(
            body,
            max_message_bytes=settings.max_message_bytes,
            max_batch_names=settings.max_batch_names,
        )
    except InvalidBatchMessageError:
        return None
    return batch_id_of(message)


def dlq(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """List dead-lettered messages with a diagnosis, or move them back to the queue."""
    aws = Aws(args.endpoint_url, args.region)
    dlq_url = aws.queue_url(args.dlq or settings.batch_dlq, "dlq")
    if args.action == "list":
        bucket = args.bucket or settings.results_bucket
        store = S3BatchStore(aws.s3, bucket, settings.results_prefix) if bucket else None
        for message in peek_all(aws.sqs, dlq_url):
            body = message["Body"]
            record = {
                "message_id": message["MessageId"],
                "receive_count": int(
                    message.get("Attributes", {}).get("ApproximateReceiveCount", 0)
                ),
                "sent_at": _iso(message.get("Attributes", {}).get("SentTimestamp")),
                "diagnosis": diagnose(body, settings, store),
                "body": body if len(body) <= args.body_chars else body[: args.body_chars] + "…",
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return 0
    queue_url = aws.queue_url(args.queue or settings.batch_queue, "queue")
    wanted = set(args.message_id or [])
    if not wanted:
        task = start_move_task(aws.sqs, dlq_url, queue_url)
        if task is not None:
            print(f"started SQS message move task {task} to {queue_url}", file=sys.stderr)
            return 0
        print("this endpoint has no StartMessageMoveTask: moving one by one", file=sys.stderr)
    moved = redrive(aws.sqs, dlq_url, queue_url, wanted, out)
    print(f"redrove {moved} message(s) to {queue_url}", file=sys.stderr)
    return 0


#: What an endpoint without the message move API answers (moto: 500 "not yet implemented").
_UNSUPPORTED = {"InternalFailure", "InternalError", "NotImplemented", "500", "UnsupportedOperation"}


def queue_arn(sqs: SQSClient, queue_url: str) -> str:
    """The ARN of a queue (what the message move task takes)."""
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]


def start_move_task(sqs: SQSClient, dlq_url: str, queue_url: str) -> str | None:
    """Start SQS's native move of every DLQ message to the queue; its task handle, or None when
    the endpoint does not implement the API."""
    try:
        response = sqs.start_message_move_task(
            SourceArn=queue_arn(sqs, dlq_url), DestinationArn=queue_arn(sqs, queue_url)
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code", "") in _UNSUPPORTED:
            return None
        raise
    return response["TaskHandle"]


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
