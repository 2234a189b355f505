"""``nameorigin-batch dlq redrive``: SQS's native message move task when the endpoint has it, the
per-message move for ``--message-id`` and for endpoints without it (moto 5.2.5 has none)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.stub import Stubber

from nameorigin.tooling import topology
from nameorigin.tooling.cli.dlq import redrive, start_move_task

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

DLQ_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/nameorigin-batch-dlq"
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/nameorigin-batch"


def arn(url: str) -> str:
    return "arn:aws:sqs:us-east-1:123456789012:" + url.rsplit("/", 1)[1]


def test_a_whole_queue_redrive_is_one_native_message_move_task() -> None:
    client = boto3.client(
        "sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        for url in (DLQ_URL, QUEUE_URL):
            stub.add_response(
                "get_queue_attributes",
                {"Attributes": {"QueueArn": arn(url)}},
                {"QueueUrl": url, "AttributeNames": ["QueueArn"]},
            )
        stub.add_response(
            "start_message_move_task",
            {"TaskHandle": "task-1"},
            {"SourceArn": arn(DLQ_URL), "DestinationArn": arn(QUEUE_URL)},
        )
        assert start_move_task(client, DLQ_URL, QUEUE_URL) == "task-1"
        stub.assert_no_pending_responses()


def test_an_endpoint_without_the_api_falls_back_to_moving_messages(
    resources: topology.CreatedResources, sqs: SQSClient
) -> None:
    assert start_move_task(sqs, resources.dlq_url, resources.queue_url) is None  # moto 5.2.5


@pytest.mark.parametrize("only_first", [False, True], ids=["all", "message-id filter"])
def test_the_per_message_move_sends_before_it_deletes(
    resources: topology.CreatedResources, sqs: SQSClient, only_first: bool
) -> None:
    sent = [
        sqs.send_message(QueueUrl=resources.dlq_url, MessageBody=f'{{"names": ["N{i}"]}}')
        for i in range(3)
    ]
    wanted = {sent[0]["MessageId"]} if only_first else set()
    out = io.StringIO()

    moved = redrive(sqs, resources.dlq_url, resources.queue_url, wanted, out)

    assert moved == (1 if only_first else 3)
    attributes = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    left = sqs.get_queue_attributes(QueueUrl=resources.dlq_url, AttributeNames=attributes)  # type: ignore[arg-type]
    assert sum(int(v) for v in left["Attributes"].values()) == 3 - moved
    if only_first:
        assert out.getvalue().split() == [sent[0]["MessageId"]]
