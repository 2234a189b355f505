"""Fixtures shared by the batch, lambda_batch, tooling and server tests: a real moto server over
HTTP, and the template's queue, DLQ and bucket on it. Helpers live in tests/support/batch_aws.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
import requests
from batch_aws import REGION, TEST_MAX_RECEIVE_COUNT, TEST_VISIBILITY_TIMEOUT
from support import moto_server

from nameorigin.batch.store import S3BatchStore
from nameorigin.config import Settings
from nameorigin.tooling import topology

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server per test session (per xdist worker), on 127.0.0.1."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Dummy credentials and the endpoint for boto3 (and subprocesses); moto's state reset."""
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": moto_endpoint,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_endpoint


@pytest.fixture
def s3(aws_env: str) -> S3Client:
    """An S3 client on the moto server."""
    return boto3.client("s3", endpoint_url=aws_env, region_name=REGION)


@pytest.fixture
def sqs(aws_env: str) -> SQSClient:
    """An SQS client on the moto server."""
    return boto3.client("sqs", endpoint_url=aws_env, region_name=REGION)


@pytest.fixture
def test_topology() -> topology.Topology:
    """The template's topology with test-sized visibility timeout and receive count."""
    return topology.Topology(
        visibility_timeout_seconds=TEST_VISIBILITY_TIMEOUT,
        max_receive_count=TEST_MAX_RECEIVE_COUNT,
    )


@pytest.fixture
def resources(
    test_topology: topology.Topology, sqs: SQSClient, s3: S3Client
) -> topology.CreatedResources:
    """Queue, DLQ and results bucket created the way ``nameorigin-batch local-up`` does."""
    return topology.create(test_topology, sqs, s3)


@pytest.fixture
def settings(resources: topology.CreatedResources) -> Settings:
    """Settings pointing at the test bucket and queues, small chunks to exercise streaming."""
    return Settings(
        model_dir=Settings.from_environ({}).model_dir,
        results_bucket=resources.bucket,
        batch_queue=resources.queue_url,
        batch_dlq=resources.dlq_url,
        stream_chunk_names=1_000,
    )


@pytest.fixture
def store(s3: S3Client, settings: Settings) -> S3BatchStore:
    """The results store on the test bucket."""
    return S3BatchStore.from_settings(settings, client=s3)
