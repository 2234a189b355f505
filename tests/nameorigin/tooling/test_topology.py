"""template.yaml and the local topology describe the same queue, DLQ and bucket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from nameorigin.tooling import topology

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"


class CloudFormationLoader(yaml.SafeLoader):
    """Reads CloudFormation's short tags (!Ref, !Sub, !GetAtt …) as {"Tag": value}."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {suffix: value}


CloudFormationLoader.add_multi_constructor("!", _tag)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    document: dict[str, Any] = yaml.load(TEMPLATE.read_text(encoding="utf-8"), CloudFormationLoader)
    return document


def test_queue_names_and_bucket_follow_the_stack_name_like_the_local_topology(
    template: dict[str, Any],
) -> None:
    resources = template["Resources"]
    local = topology.Topology(stack_name="STACK", account_id="ACCOUNT", region="REGION")
    rendered = {
        "BatchQueue": resources["BatchQueue"]["Properties"]["QueueName"]["Sub"],
        "BatchDeadLetterQueue": resources["BatchDeadLetterQueue"]["Properties"]["QueueName"]["Sub"],
        "ResultsBucket": resources["ResultsBucket"]["Properties"]["BucketName"]["Sub"],
    }
    substituted = {
        name: value.replace("${AWS::StackName}", "STACK")
        .replace("${AWS::AccountId}", "ACCOUNT")
        .replace("${AWS::Region}", "REGION")
        for name, value in rendered.items()
    }
    assert substituted == {
        "BatchQueue": local.queue_name,
        "BatchDeadLetterQueue": local.dlq_name,
        "ResultsBucket": local.bucket_name,
    }


def test_settings_and_parameter_defaults_match_the_local_topology(template: dict[str, Any]) -> None:
    parameters, resources = template["Parameters"], template["Resources"]
    queue = resources["BatchQueue"]["Properties"]
    local = topology.Topology()
    assert parameters["BatchSize"]["Default"] == local.batch_size
    assert parameters["BatchingWindowSeconds"]["Default"] == local.batching_window_seconds
    assert parameters["BatchingWindowSeconds"]["MaxValue"] == local.max_batching_window_seconds
    assert parameters["MaxReceiveCount"]["Default"] == local.max_receive_count
    assert queue["VisibilityTimeout"] == local.visibility_timeout_seconds
    assert queue["MessageRetentionPeriod"] == local.message_retention_seconds
    assert queue["MaximumMessageSize"] == local.max_message_bytes
    assert queue["RedrivePolicy"]["maxReceiveCount"] == {"Ref": "MaxReceiveCount"}
    dlq = resources["BatchDeadLetterQueue"]["Properties"]
    assert dlq["MessageRetentionPeriod"] == local.dlq_retention_seconds
    assert resources["BatchFunction"]["Properties"]["Timeout"] == local.function_timeout_seconds


def test_visibility_timeout_follows_aws_guidance_for_any_allowed_window(
    template: dict[str, Any],
) -> None:
    resources, parameters = template["Resources"], template["Parameters"]
    timeout = resources["BatchFunction"]["Properties"]["Timeout"]
    longest_window = parameters["BatchingWindowSeconds"]["MaxValue"]
    assert (
        resources["BatchQueue"]["Properties"]["VisibilityTimeout"] >= 6 * timeout + longest_window
    )


def test_the_event_source_reports_partial_failures_and_is_bounded(template: dict[str, Any]) -> None:
    mapping = template["Resources"]["BatchEventSourceMapping"]["Properties"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == {"Ref": "BatchSize"}
    assert mapping["MaximumBatchingWindowInSeconds"] == {"Ref": "BatchingWindowSeconds"}
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "BatchMaximumConcurrency"}}


def test_the_batch_function_ships_the_same_package_as_the_api_function(
    template: dict[str, Any],
) -> None:
    resources = template["Resources"]
    batch, api = resources["BatchFunction"], resources["ApiFunction"]
    assert batch["Properties"]["CodeUri"] == api["Properties"]["CodeUri"]
    assert batch["Metadata"] == api["Metadata"]
    assert batch["Properties"]["Handler"] == "nameorigin.lambda_batch.handler.lambda_handler"


def test_the_results_bucket_is_private_encrypted_and_expires_objects(
    template: dict[str, Any],
) -> None:
    bucket = template["Resources"]["ResultsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireResults"]["Prefix"] == "results/"
    assert rules["AbortIncompleteMultipartUploads"]["AbortIncompleteMultipartUpload"]
