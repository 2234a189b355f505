"""A local stand-in for Lambda's SQS event source mapping: real queue in, same handler, same rules.

Like the managed poller it long-polls, gathers up to ``batch_size`` messages within the batching
window, invokes the handler with a real SQS event, deletes only the records the handler did not
report in ``batchItemFailures`` (none at all if the handler raised or answered nonsense), and leaves
failures to the visibility timeout, so the queue's own redrive policy moves poison to the DLQ.

Differences, on purpose: one invocation at a time (``MaximumConcurrency`` 1), no function timeout
enforced, and no 6 MB payload cut (a batch is at most ``batch_size`` messages of at most 256 KB).
"""

from __future__ import annotations

import base64
import importlib
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from nameorigin.lambda_context import LocalLambdaContext

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]
#: Longest single ReceiveMessage wait: keeps the loop responsive to a stop request.
MAX_POLL_WAIT_SECONDS = 2
SQS_RECEIVE_MAX = 10
ENDPOINT_RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class PollOutcome:
    """What one invocation did (for logs, tests and the benchmark)."""

    received: int
    deleted: int
    failed: int


class LocalEventSourceMapping:
    """Receive → invoke → delete successes, one batch at a time."""

    def __init__(
        self,
        sqs: SQSClient,
        queue_url: str,
        handler: Handler,
        *,
        batch_size: int = 5,
        batching_window_seconds: float = 5,
        region: str = "us-east-1",
        function_timeout_seconds: int = 900,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.handler = handler
        self.batch_size = batch_size
        self.batching_window_seconds = batching_window_seconds
        self.region = region
        self.function_timeout_seconds = function_timeout_seconds
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def poll_once(self, wait_seconds: int = MAX_POLL_WAIT_SECONDS) -> PollOutcome | None:
        """Gather one batch and invoke the handler on it; None when the queue stayed empty."""
        messages = self._gather(wait_seconds)
        if not messages:
            return None
        event = {"Records": [self._record(message) for message in messages]}
        failed_ids = self._invoke(event)
        succeeded = [m for m in messages if m["MessageId"] not in failed_ids]
        self._delete(succeeded)
        outcome = PollOutcome(
            received=len(messages), deleted=len(succeeded), failed=len(messages) - len(succeeded)
        )
        log.info("invocation done: %s", outcome)
        return outcome

    def run(self, stop: threading.Event | None = None) -> None:
        """Poll until ``stop`` is set (or forever)."""
        stop = stop or threading.Event()
        while not stop.is_set():
            try:
                self.poll_once()
            except (BotoCoreError, ClientError):
                # The queue endpoint hiccupped: like the managed poller, keep polling. Messages
                # already received and not deleted come back after their visibility timeout.
                log.exception("polling failed; retrying in %s s", ENDPOINT_RETRY_SECONDS)
                stop.wait(ENDPOINT_RETRY_SECONDS)

    def _gather(self, wait_seconds: int) -> list[MessageTypeDef]:
        messages = self._receive(min(SQS_RECEIVE_MAX, self.batch_size), wait_seconds)
        if not messages:
            return []
        deadline = time.monotonic() + self.batching_window_seconds
        while len(messages) < self.batch_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            wanted = min(SQS_RECEIVE_MAX, self.batch_size - len(messages))
            messages += self._receive(wanted, min(MAX_POLL_WAIT_SECONDS, math.ceil(remaining)))
        return messages

    def _receive(self, count: int, wait_seconds: int) -> list[MessageTypeDef]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def _record(self, message: MessageTypeDef) -> dict[str, Any]:
        """One record exactly as Lambda shapes it (camelCase, attribute values lower-cased)."""
        attributes: dict[str, dict[str, Any]] = {}
        for name, value in message.get("MessageAttributes", {}).items():
            binary = value.get("BinaryValue")
            attributes[name] = {
                "stringValue": value.get("StringValue"),
                "binaryValue": base64.b64encode(binary).decode() if binary else None,
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": dict(message.get("Attributes", {})),
            "messageAttributes": attributes,
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }

    def _invoke(self, event: dict[str, Any]) -> set[str]:
        """The ids of failed records: all of them when the handler raises or answers nonsense."""
        every_id = {record["messageId"] for record in event["Records"]}
        context = LocalLambdaContext(
            function_name="nameorigin-batch-local",
            timeout_seconds=self.function_timeout_seconds,
            memory_limit_in_mb=2048,
            log_group_name="/aws/lambda/nameorigin-batch-local",
            region=self.region,
        )
        try:
            response = self.handler(event, context)
        except Exception:
            log.exception("handler raised: every record of the batch returns to the queue")
            return every_id
        try:
            failures = {item["itemIdentifier"] for item in response["batchItemFailures"]}
        except (TypeError, KeyError):
            log.error("handler answered %r: treating the whole batch as failed", response)
            return every_id
        if not failures <= every_id:
            log.error("batchItemFailures names unknown ids: treating the whole batch as failed")
            return every_id
        return failures

    def _delete(self, messages: Sequence[MessageTypeDef]) -> None:
        for start in range(0, len(messages), SQS_RECEIVE_MAX):
            chunk = messages[start : start + SQS_RECEIVE_MAX]
            response = self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)
                ],
            )
            for failure in response.get("Failed", []):
                log.error(
                    "could not delete a processed message (it will be redelivered): %s", failure
                )


def load_handler(path: str) -> Handler:
    """``package.module.function`` (Lambda's Handler setting) → the function."""
    module_name, _, attribute = path.rpartition(".")
    handler: Handler = getattr(importlib.import_module(module_name), attribute)
    return handler
