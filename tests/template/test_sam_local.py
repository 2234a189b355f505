"""The real `sam local invoke` / `sam local start-api` answer like the handlers called in process.

The SAM CLI runs each function in a container (podman's Docker-compatible API, started per
command by sam-local/sam.sh) from the stand-in Lambda python3.12 image (`make sam-local-image`),
on the built package. The reference is the handler the template names, imported and called in a
plain Python process on the committed model. `make sam-local-test` runs these (marker samlocal);
a missing engine or image fails them, it never skips them.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from support import free_port, moto_server

from .conftest import ROOT, SAM_ENVIRONMENT, SamBuild, load_template

pytestmark = pytest.mark.samlocal

STANDIN_IMAGE = "public.ecr.aws/lambda/python:3.12-x86_64"
SAM_SH = ROOT / "sam-local" / "sam.sh"
BATCH_INVOKE = ROOT / "sam-local" / "batch_invoke.py"
MOTO_DIR = ROOT / "build" / "moto-py3.12"
RESULTS_BUCKET = "nameorigin-results-123456789012-us-east-1"
#: API events: success, each kind of client error, base64 body, the v2 protocol, metadata.
API_EVENTS = [
    "get_prediction",
    "get_prediction_base64",
    "get_prediction_cyrillic",  # romanized in the package: iuliia is in the zip
    "predict_invalid_names",
    "unknown_route",
    "get_prediction_wrong_method",
    "v2_infer",
]
#: More events for start-api, which keeps one warm container (cheap per request).
MORE_HTTP_EVENTS = ["check_service", "predict", "v2_model_metadata", "model"]
#: Fields of a batch summary that differ between any two runs (clock, durations).
RUN_DEPENDENT = {"started_at", "finished_at", "timings"}


#: Runs a handler the way Lambda calls it, in a plain Python process: argv = handler, function
#: name, event files; prints one JSON response per event.
RUN_HANDLER = """
import importlib, json, sys

class Context:
    aws_request_id = "in-process"
    memory_limit_in_mb = 1024

    def __init__(self, name):
        self.function_name = name
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"

MARK = "nameorigin-test-response: "
module, _, name = sys.argv[1].rpartition(".")
handler = getattr(importlib.import_module(module), name)
for path in sys.argv[3:]:
    with open(path, encoding="utf-8") as event:
        print(MARK + json.dumps(handler(json.load(event), Context(sys.argv[2]))), flush=True)
"""


def function_environment(function: str) -> dict[str, str]:
    """The variables template.yaml gives a function (Globals, then its own), literal ones only."""
    template = load_template(ROOT / "template.yaml")
    variables = {
        **template["Globals"]["Function"]["Environment"]["Variables"],
        **template["Resources"][function]["Properties"].get("Environment", {}).get("Variables", {}),
    }
    return {key: value for key, value in variables.items() if isinstance(value, str)}


def in_process(
    function: str, event_files: list[Path], environment: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The handler template.yaml names for ``function``, imported in a fresh Python process (with
    the function's environment, the committed model) and called with each event."""
    handler = load_template(ROOT / "template.yaml")["Resources"][function]["Properties"]["Handler"]
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env |= {"AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}
    env |= {"POWERTOOLS_TRACE_DISABLED": "true", **function_environment(function)}
    completed = subprocess.run(
        [sys.executable, "-c", RUN_HANDLER, handler, function, *map(str, event_files)],
        env=env | (environment or {}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    # Powertools writes logs and EMF metrics to stdout too: the responses are the marked lines.
    mark = "nameorigin-test-response: "
    return [
        json.loads(line.removeprefix(mark))
        for line in completed.stdout.splitlines()
        if line.startswith(mark)
    ]


def status_and_body(response: dict[str, Any]) -> tuple[int, Any]:
    """The parts of a proxy response the two sides must agree on."""
    return int(response["statusCode"]), json.loads(response["body"])


@pytest.fixture(scope="session")
def api_reference() -> dict[str, tuple[int, Any]]:
    """Every API event's answer from the API handler in process, by event name."""
    names = [*API_EVENTS, *MORE_HTTP_EVENTS]
    files = [ROOT / "events" / "api" / f"{name}.json" for name in names]
    responses = in_process("ApiFunction", files)
    assert len(responses) == len(names)
    return {
        name: status_and_body(response) for name, response in zip(names, responses, strict=True)
    }


def api_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / "api" / f"{name}.json").read_text())
    return event


@pytest.fixture(scope="session")
def engine() -> None:
    """podman and the stand-in base image (made by `make sam-local-image`)."""
    assert shutil.which("podman"), "podman is missing: `make sam-local-image` installs it"
    exists = subprocess.run(
        ["podman", "image", "exists", STANDIN_IMAGE], check=False, timeout=60
    ).returncode
    assert exists == 0, f"{STANDIN_IMAGE} is missing: run `make sam-local-image`"


def sam_local(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``sam-local/sam.sh ARGS`` from the repository root (the SAM CLI on its own podman socket)."""
    return subprocess.run(
        ["bash", str(SAM_SH), *args],
        cwd=ROOT,
        env=SAM_ENVIRONMENT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def last_json_line(output: str) -> dict[str, Any]:
    """sam prints the function's response as the last line of its standard output."""
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("name", API_EVENTS)
def test_sam_local_invoke_answers_like_the_handler_in_process(
    name: str, engine: None, sam_build: SamBuild, api_reference: dict[str, tuple[int, Any]]
) -> None:
    event_file = ROOT / "events" / "api" / f"{name}.json"

    result = sam_local(
        "local",
        "invoke",
        "ApiFunction",
        "--template",
        str(sam_build.build_dir / "template.yaml"),
        "--event",
        str(event_file),
        "--skip-pull-image",
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert status_and_body(last_json_line(result.stdout)) == api_reference[name]


def test_make_sam_local_invoke_prints_the_json_result(
    engine: None, api_reference: dict[str, tuple[int, Any]]
) -> None:
    # The documented command, end to end (it builds .aws-sam/build when something changed).
    result = subprocess.run(
        [
            "make",
            "-s",
            "--no-print-directory",
            "sam-local-invoke",
            "FUNCTION=ApiFunction",
            "EVENT=events/api/get_prediction.json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    printed = json.loads(result.stdout)  # stdout is the JSON result and nothing else
    assert status_and_body(printed) == api_reference["get_prediction"]
    assert len(status_and_body(printed)[1]["predictions"]) == 2  # the event asks for two


@pytest.fixture
def start_api(engine: None, sam_build: SamBuild) -> Iterator[str]:
    """`sam local start-api` on a free 127.0.0.1 port; yields its URL, stops it (TERM) after."""
    port = free_port()
    process = subprocess.Popen(
        [
            "bash",
            str(SAM_SH),
            "local",
            "start-api",
            "--template",
            str(sam_build.build_dir / "template.yaml"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--warm-containers",
            "LAZY",
            "--skip-pull-image",
        ],
        cwd=ROOT,
        env=SAM_ENVIRONMENT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, "sam local start-api exited"
            try:
                httpx.get(f"{url}/v2/health/live", timeout=30)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "sam local start-api did not answer in 120 s"
                time.sleep(0.5)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def http_request_of(event: dict[str, Any]) -> tuple[str, str, dict[str, str], bytes | None]:
    """The HTTP request an API Gateway proxy event describes."""
    body = event.get("body")
    content: bytes | None = None
    if body is not None:
        content = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    headers = {
        key: value
        for key, value in (event.get("headers") or {}).items()
        if key.lower() not in {"host", "content-length"}
    }
    return event["httpMethod"], event["path"], headers, content


def test_sam_local_start_api_serves_http_like_the_handler_in_process(
    start_api: str, api_reference: dict[str, tuple[int, Any]]
) -> None:
    names = [*API_EVENTS, *MORE_HTTP_EVENTS]

    with httpx.Client(base_url=start_api, timeout=60) as client:
        for name in names:
            event = api_event(name)
            method, path, headers, content = http_request_of(event)

            response = client.request(method, path, headers=headers, content=content)

            assert (response.status_code, response.json()) == api_reference[name], name


# --- The batch function on a local moto server ---------------------------------------------


def in_process_batch(event_file: Path, claim_check: Path | None) -> dict[str, Any]:
    """The batch handler in process against a fresh moto server on 127.0.0.1: its response and
    the result objects it wrote."""
    with moto_server() as endpoint:
        httpx.post(f"{endpoint}/moto-api/reset", timeout=30).raise_for_status()
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        s3.create_bucket(Bucket=RESULTS_BUCKET)
        if claim_check is not None:
            s3.upload_file(str(claim_check), RESULTS_BUCKET, "uploads/sample/names.txt")
        [response] = in_process(
            "BatchFunction",
            [event_file],
            {
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "NAMEORIGIN_RESULTS_BUCKET": RESULTS_BUCKET,
            },
        )
        listing = s3.list_objects_v2(Bucket=RESULTS_BUCKET, Prefix="results/")["Contents"]
        objects = {
            item["Key"].removeprefix("results/"): s3.get_object(
                Bucket=RESULTS_BUCKET, Key=item["Key"]
            )["Body"].read()
            for item in listing
        }
    return {"response": response, "objects": objects}


def comparable(name: str, content: bytes) -> Any:
    """A result object as data; summaries without their clock and durations."""
    if name.endswith(".summary.json"):
        return {k: v for k, v in json.loads(content).items() if k not in RUN_DEPENDENT}
    return [json.loads(line) for line in content.decode().splitlines()]


@pytest.mark.parametrize("event_name", ["inline-batch", "claim-check", "mixed-with-poison"])
def test_sam_local_invoke_batch_writes_what_the_handler_writes_in_process(
    event_name: str, engine: None, sam_build: SamBuild, tmp_path: Path
) -> None:
    assert (MOTO_DIR / ".installed").is_file(), f"{MOTO_DIR} is missing: `make sam-local-test`"
    event_file = ROOT / "events" / "sqs" / f"{event_name}.json"
    claim_check = None
    if event_name == "claim-check":
        claim_check = tmp_path / "names.txt"
        claim_check.write_text("Jordan\nNguyen\n\nSchmidt\nRossi\nO'Brien\nDvořák\n")
    out = tmp_path / "results"

    completed = subprocess.run(
        [
            sys.executable,
            str(BATCH_INVOKE),
            str(event_file),
            "--template",
            str(sam_build.build_dir / "template.yaml"),
            "--out",
            str(out),
            "--moto-dir",
            str(MOTO_DIR),
            "--sam-arg=--skip-pull-image",
            *(["--claim-check", str(claim_check)] if claim_check else []),
        ],
        cwd=ROOT,
        env=SAM_ENVIRONMENT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    through_sam = json.loads(completed.stdout)
    expected = in_process_batch(event_file, claim_check)
    assert through_sam["response"] == expected["response"]
    written = {Path(path).name: Path(path).read_bytes() for path in through_sam["results"]}
    assert sorted(written) == sorted(expected["objects"])
    assert any(name.endswith(".jsonl") for name in written)
    for name, content in written.items():
        assert comparable(name, content) == comparable(name, expected["objects"][name]), name
