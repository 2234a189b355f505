"""The queue, DLQ and bucket that template.yaml declares, as values the local tools can create.

template.yaml is the source of truth for AWS; this module repeats its names and default settings so
``nameorigin-batch local-up`` builds the same topology on a local endpoint (moto). A test reads
template.yaml and fails if the two drift apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from nameorigin.config import SQS_MESSAGE_LIMIT_BYTES

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

DEFAULT_STACK_NAME = "nameorigin"
#: moto's account and the deploy region (samconfig.toml): what the bucket name embeds locally.
LOCAL_ACCOUNT_ID = "123456789012"
LOCAL_REGION = "us-east-1"


@dataclass(frozen=True)
class Topology:
    """Names and settings of the batch resources (defaults = template.yaml's parameter defaults)."""

    stack_name: str = DEFAULT_STACK_NAME
    account_id: str = LOCAL_ACCOUNT_ID
    region: str = LOCAL_REGION
    #: BatchFunction Timeout in template.yaml (the budget of one invocation, whole batch).
    function_timeout_seconds: int = 900
    #: Parameters BatchSize and BatchingWindowSeconds (and the window's MaxValue).
    batch_size: int = 5
    batching_window_seconds: int = 5
    max_batching_window_seconds: int = 300
    #: Parameter MaxReceiveCount: deliveries before a message moves to the DLQ.
    max_receive_count: int = 3
    #: 6 x function timeout + the largest batching window (AWS's guidance for SQS event sources).
    visibility_timeout_seconds: int = 6 * 900 + 300
    message_retention_seconds: int = 4 * 24 * 3600
    dlq_retention_seconds: int = 14 * 24 * 3600
    max_message_bytes: int = SQS_MESSAGE_LIMIT_BYTES

    @property
    def queue_name(self) -> str:
        """``${AWS::StackName}-batch``."""
        return f"{self.stack_name}-batch"

    @property
    def dlq_name(self) -> str:
        """``${AWS::StackName}-batch-dlq``."""
        return f"{self.stack_name}-batch-dlq"

    @property
    def bucket_name(self) -> str:
        """``${AWS::StackName}-results-${AWS::AccountId}-${AWS::Region}``."""
        return f"{self.stack_name}-results-{self.account_id}-{self.region}"

    def with_visibility_timeout(self, seconds: int | None) -> Topology:
        """The same topology with a shorter visibility timeout (local demos and tests)."""
        return self if seconds is None else replace(self, visibility_timeout_seconds=seconds)


@dataclass(frozen=True)
class CreatedResources:
    """What ``create`` made (or found already there)."""

    queue_url: str
    dlq_url: str
    bucket: str


def create(topology: Topology, sqs: SQSClient, s3: S3Client) -> CreatedResources:
    """Create DLQ, queue (with its redrive policy) and results bucket; idempotent."""
    dlq_url = sqs.create_queue(
        QueueName=topology.dlq_name,
        Attributes={"MessageRetentionPeriod": str(topology.dlq_retention_seconds)},
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": topology.max_receive_count}
    queue_url = sqs.create_queue(QueueName=topology.queue_name)["QueueUrl"]
    # Set separately so re-running with other settings updates an existing queue.
    sqs.set_queue_attributes(
        QueueUrl=queue_url,
        Attributes={
            "VisibilityTimeout": str(topology.visibility_timeout_seconds),
            "MessageRetentionPeriod": str(topology.message_retention_seconds),
            "MaximumMessageSize": str(topology.max_message_bytes),
            "RedrivePolicy": json.dumps(redrive),
        },
    )
    existing = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    if topology.bucket_name not in existing:
        s3.create_bucket(Bucket=topology.bucket_name)
    return CreatedResources(queue_url=queue_url, dlq_url=dlq_url, bucket=topology.bucket_name)
