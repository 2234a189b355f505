"""The CloudEvents endpoint: the SQS function's batch contract over Knative Eventing's HTTP.

S3 is a real moto server on 127.0.0.1. "Same results as the SQS function" is checked by running the
same message through ``run_batch`` directly (what the SQS handler calls) into another bucket and
comparing the stored results byte for byte.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import httpx
import pytest

from nameorigin.batch.jobs import run_batch
from nameorigin.batch.store import S3BatchStore
from nameorigin.config import Settings
from nameorigin.core.model_store import ModelStore
from nameorigin.server.cloudevents import (
    CloudEventsEndpoint,
    InvalidCloudEventError,
    batch_message_of,
    parse_cloudevent,
)
from nameorigin.server.events import HttpRequest

from .conftest import StartServer

CE_HEADERS = {
    "ce-specversion": "1.0",
    "ce-id": "msg-1",
    "ce-source": "aws.sqs/nameorigin-batch",
    "ce-type": "dev.knative.connector.event.aws-sqs",
}
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def http_request(
    body: bytes, headers: dict[str, str], method: str = "POST", path: str = "/cloudevents"
) -> HttpRequest:
    return HttpRequest(method, path, b"", list(headers.items()), body)


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An S3 client on moto, with the results and reference buckets created."""
    for key, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    httpx.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    for bucket in ("results", "reference"):
        client.create_bucket(Bucket=bucket)
    return client


@pytest.fixture(scope="module")
def models() -> ModelStore:
    """The committed model, loaded."""
    store = ModelStore(Settings.from_environ({}))
    store.load()
    return store


def endpoint_for(s3: Any, models: ModelStore, bucket: str = "results") -> CloudEventsEndpoint:
    settings = Settings.from_environ({"NAMEORIGIN_RESULTS_BUCKET": bucket})
    return CloudEventsEndpoint(
        settings, models, lambda s: S3BatchStore(s3, s.results_bucket, s.results_prefix)
    )


# -- reading CloudEvents ------------------------------------------------------------------------


def test_binary_mode_takes_attributes_from_headers_and_data_from_the_body() -> None:
    event = parse_cloudevent(http_request(b'{"names": ["Ito"]}', CE_HEADERS))
    assert (event.get_id(), event.get_source(), event.get_type()) == (
        "msg-1",
        "aws.sqs/nameorigin-batch",
        "dev.knative.connector.event.aws-sqs",
    )
    assert batch_message_of(event) == {"names": ["Ito"]}


def test_binary_mode_data_that_is_not_json_reaches_the_batch_as_text() -> None:
    event = parse_cloudevent(
        http_request(b"not json", {**CE_HEADERS, "content-type": "text/plain"})
    )
    assert batch_message_of(event) == "not json"


@pytest.mark.parametrize(
    "envelope_data",
    [
        {"data": {"names": ["Ito"]}},
        {"data": '{"names": ["Ito"]}'},
        {"data_base64": base64.b64encode(b'{"names": ["Ito"]}').decode()},
    ],
    ids=["object", "json-text", "base64"],
)
def test_structured_mode_reads_data_in_each_of_its_forms(envelope_data: dict[str, Any]) -> None:
    envelope = {"specversion": "1.0", "id": "m", "source": "s", "type": "t", **envelope_data}
    request = http_request(
        json.dumps(envelope).encode(), {"content-type": "application/cloudevents+json"}
    )
    data = batch_message_of(parse_cloudevent(request))
    parsed = json.loads(data) if isinstance(data, str | bytes) else data
    assert parsed == {"names": ["Ito"]}


@pytest.mark.parametrize(
    ("headers", "body", "status", "words"),
    [
        ({"content-type": "application/json"}, b"{}", 400, "not a CloudEvent"),
        ({**CE_HEADERS, "ce-specversion": "0.3"}, b"{}", 400, "specversion"),
        ({k: v for k, v in CE_HEADERS.items() if k != "ce-source"}, b"{}", 400, "source"),
        ({"content-type": "application/cloudevents+json"}, b"{not json", 400, "not valid JSON"),
        ({"content-type": "application/cloudevents-batch+json"}, b"[]", 415, "batched"),
    ],
    ids=["plain-json", "old-spec", "no-source", "bad-envelope", "batch-mode"],
)
def test_what_is_not_a_readable_cloudevent_is_refused_with_a_reason(
    headers: dict[str, str], body: bytes, status: int, words: str
) -> None:
    with pytest.raises(InvalidCloudEventError) as raised:
        parse_cloudevent(http_request(body, headers))
    assert raised.value.status == status
    assert words in str(raised.value)


# -- running the batch ------------------------------------------------------------------------


def test_a_message_stores_the_same_results_as_the_sqs_function(s3: Any, models: ModelStore) -> None:
    message = {
        "batch_id": "ce-equivalence",
        "names": ["Jordan", "Nakamura", "", "Dvořák"],
        "top_k": 2,
    }
    answer = endpoint_for(s3, models)(http_request(json.dumps(message).encode(), CE_HEADERS))
    assert answer.status == 200, answer.body
    summary = json.loads(answer.body)
    assert (summary["count"], summary["classified"], summary["rejected"]) == (4, 3, 1)

    direct = run_batch(
        json.dumps(message),
        classifier=models.current(),
        store=S3BatchStore(s3, "reference", "results/"),
        settings=Settings.from_environ({"NAMEORIGIN_RESULTS_BUCKET": "reference"}),
    )
    via_event = s3.get_object(Bucket="results", Key=summary["results"]["key"])["Body"].read()
    via_sqs_path = s3.get_object(Bucket="reference", Key=direct.results.key)["Body"].read()
    assert via_event == via_sqs_path
    assert summary["results"]["sha256"] == direct.results.sha256


def test_a_redelivered_message_is_not_redone(s3: Any, models: ModelStore) -> None:
    endpoint = endpoint_for(s3, models)
    request = http_request(json.dumps({"names": ["Ito"]}).encode(), CE_HEADERS)
    first, second = endpoint(request), endpoint(request)
    assert first.status == second.status == 200
    assert json.loads(first.body)["already_done"] is False
    assert json.loads(second.body)["already_done"] is True


@pytest.mark.parametrize(
    "message",
    [{"names": []}, {"names": ["Ito"], "top_k": 99}, {"nothing": 1}, "not json at all"],
    ids=["no-names", "top-k", "no-shape", "not-json"],
)
def test_an_invalid_message_is_a_final_4xx_with_the_reason(
    s3: Any, models: ModelStore, message: Any
) -> None:
    body = message.encode() if isinstance(message, str) else json.dumps(message).encode()
    answer = endpoint_for(s3, models)(http_request(body, CE_HEADERS))
    assert answer.status == 422
    assert json.loads(answer.body)["error"]


def test_a_storage_failure_is_a_5xx_so_the_source_retries(s3: Any, models: ModelStore) -> None:
    answer = endpoint_for(s3, models, bucket="no-such-bucket")(
        http_request(json.dumps({"names": ["Ito"]}).encode(), CE_HEADERS)
    )
    assert answer.status == 503
    assert "retry" in json.loads(answer.body)["error"]


def test_a_missing_results_bucket_is_a_server_error_that_names_the_setting(
    s3: Any, models: ModelStore
) -> None:
    endpoint = CloudEventsEndpoint(Settings.from_environ({}), models)
    answer = endpoint(http_request(json.dumps({"names": ["Ito"]}).encode(), CE_HEADERS))
    assert answer.status == 500
    assert "NAMEORIGIN_RESULTS_BUCKET" in json.loads(answer.body)["error"]


@pytest.mark.parametrize(
    "message",
    [{"name": {"names": []}}, {"names": ["Ito"], "top_k": 19}, "not json"],
    ids=["schema", "top_k", "json"],
)
def test_a_bad_message_is_a_4xx_even_where_no_results_bucket_is_set(
    models: ModelStore, message: Any
) -> None:
    endpoint = CloudEventsEndpoint(Settings.from_environ({}), models)
    body = message.encode() if isinstance(message, str) else json.dumps(message).encode()
    answer = endpoint(http_request(body, CE_HEADERS))
    assert answer.status == 422
    assert "NAMEORIGIN_RESULTS_BUCKET" not in json.loads(answer.body)["error"]


def test_only_post_delivers_events(s3: Any, models: ModelStore) -> None:
    answer = endpoint_for(s3, models)(http_request(b"", {}, method="GET"))
    assert answer.status == 405
    assert ("allow", "POST") in answer.headers


# -- over real HTTP -----------------------------------------------------------------------------


def test_the_server_accepts_a_binary_cloudevent_and_writes_the_results(
    s3: Any, moto_endpoint: str, start_server: StartServer
) -> None:
    server = start_server(
        NAMEORIGIN_RESULTS_BUCKET="results",
        AWS_ENDPOINT_URL=moto_endpoint,
        **FAKE_CREDENTIALS,
    )
    server.wait_until("/v2/health/ready")
    with server.client() as client:
        answer = client.post(
            "/cloudevents",
            content=json.dumps({"batch_id": "over-http", "names": ["Rossi", "Smith"]}),
            headers={**CE_HEADERS, "content-type": "application/json"},
        )
        structured = client.post(
            "/cloudevents",
            content=json.dumps({"specversion": "1.0", "id": "x", "source": "s", "type": "t"}),
            headers={"content-type": "application/cloudevents+json"},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["batch_id"] == "over-http"
    stored = s3.get_object(Bucket="results", Key=answer.json()["results"]["key"])["Body"].read()
    assert [json.loads(line)["name"] for line in stored.splitlines()] == ["Rossi", "Smith"]
    assert structured.status_code == 422  # a CloudEvent without data is not a batch message
