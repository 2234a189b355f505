"""Generated requests (schemathesis) against the real server, then the same ones through Lambda.

Schemathesis reads the server's own ``/openapi.json`` and runs every phase it has for it
(examples, coverage, fuzzing) with a fixed seed, checking that no answer is a 5xx, that every
status, content type and body is the documented one, and that invalid input is refused. Its
cassette (every request and answer) is then replayed through the Lambda entry point as API
Gateway REST proxy events: both front doors must give the same status, content type and body.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import yaml
from support import lambda_context

from .conftest import ServerProcess

pytestmark = pytest.mark.slow

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,negative_data_rejection"
)
SEED = 20261130
#: Per operation and phase; with the 10 operations this generates about 2,300 cases (~30 s).
MAX_EXAMPLES = 400
MINIMUM_CASES = 2_000
#: What template.yaml's Globals give every function (Powertools reads them at import).
LAMBDA_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "nameorigin",
    "POWERTOOLS_METRICS_NAMESPACE": "NameOrigin",
}


def run_schemathesis(server: ServerProcess, report_dir: Path) -> tuple[str, list[dict[str, Any]]]:
    """Run schemathesis once; its output and the recorded interactions."""
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{server.base_url}/openapi.json",
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--generation-deterministic",
        "--workers",
        "1",
        "--report",
        "vcr",
        "--report-dir",
        str(report_dir),
        "--report-preserve-bytes",
        "--no-color",
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=600, check=False, cwd=report_dir
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    (cassette,) = report_dir.glob("vcr-*.yaml")
    data = yaml.load(cassette.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    return output, list(data["http_interactions"])


def _body(recorded: dict[str, Any] | None) -> bytes:
    if not recorded:
        return b""
    if "base64_string" in recorded:
        return base64.b64decode(recorded["base64_string"])
    return str(recorded.get("string", "")).encode("utf-8")


def api_gateway_event(request: dict[str, Any]) -> dict[str, Any]:
    """The REST proxy event API Gateway sends for a recorded request (written apart from the
    Knative adapter's conversion, so a fault in one is not hidden by the other)."""
    url = urlsplit(request["uri"])
    path = unquote(url.path) or "/"
    headers = {key: [str(v) for v in values] for key, values in request["headers"].items()}
    query = parse_qsl(url.query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for key, value in query:
        multi_query.setdefault(key, []).append(value)
    body = _body(request.get("body"))
    try:
        text: str | None = body.decode("utf-8") if body else None
        encoded = False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode("ascii"), True
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": request["method"].upper(),
        "headers": {key: values[-1] for key, values in headers.items()},
        "multiValueHeaders": headers,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": request["method"].upper(),
            "path": f"/v1{path}",
            "stage": "v1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


def _content_type(headers: dict[str, Any]) -> str:
    for key, values in headers.items():
        if key.lower() == "content-type":
            return str(values[-1] if isinstance(values, list) else values)
    return ""


def _parsed(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body


def test_generated_requests_pass_every_check_and_both_doors_answer_alike(
    ready_server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output, interactions = run_schemathesis(ready_server, tmp_path)
    generated = int(re.search(r"(\d+) generated", output).group(1))  # type: ignore[union-attr]
    assert generated >= MINIMUM_CASES, output[-3000:]
    assert "0 failures" in output or "failures" not in output.split("SUMMARY")[-1], output[-3000:]
    assert ready_server.log().count("unhandled error") == 0, ready_server.log()[-3000:]

    for key, value in LAMBDA_ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    from nameorigin.lambda_api import handler  # noqa: PLC0415 - the import is the init

    replayed, mismatches = 0, []
    context = lambda_context()
    for interaction in interactions:
        request, response = interaction["request"], interaction.get("response")
        if response is None:  # the request never got an answer (none expected: counted below)
            mismatches.append((request["method"], request["uri"], "no HTTP answer"))
            continue
        result = handler.lambda_handler(api_gateway_event(request), context)
        replayed += 1
        http_status = int(response["status"]["code"])
        http_body = _body(response.get("body"))
        lambda_body = (
            base64.b64decode(result.get("body") or "")
            if result.get("isBase64Encoded")
            else str(result.get("body") or "").encode("utf-8")
        )
        lambda_headers = {
            **(result.get("headers") or {}),
            **(result.get("multiValueHeaders") or {}),
        }
        same = (
            http_status == result["statusCode"]
            and _content_type(response["headers"]) == _content_type(lambda_headers)
            and _parsed(http_body) == _parsed(lambda_body)
        )
        if not same:
            mismatches.append(
                (
                    request["method"],
                    request["uri"],
                    f"http {http_status} {http_body[:200]!r} / lambda {result['statusCode']} "
                    f"{lambda_body[:200]!r}",
                )
            )
    handler.metrics.clear_metrics()
    assert replayed >= MINIMUM_CASES
    assert mismatches == [], mismatches[:10]
