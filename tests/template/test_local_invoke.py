"""The built function through the real Lambda runtime (RIE + awslambdaric) answers like in-process.

This is what `make invoke` does; here on a free port, for a set of events, against the Powertools
resolver running in this process on the same model.
"""

from __future__ import annotations

import json
import subprocess
import sys
from types import ModuleType
from typing import Any

from support import lambda_context

from nameorigin.config import REPOSITORY_MODEL_DIR, Settings
from nameorigin.core.model_store import ModelStore
from nameorigin.routes.resolver import create_resolver

from .conftest import ROOT, LambdaRuntime, SamBuild

EVENTS = [
    "check_service",
    "get_prediction",
    "get_prediction_base64",
    "predict",
    "predict_invalid_names",
    "predict_body_too_large",
    "v2_infer",
    "v2_model_metadata",
    "model",
    "unknown_route",
    "get_prediction_wrong_method",
]


def status_and_body(response: dict[str, Any]) -> tuple[int, Any]:
    """The parts of a proxy response both sides must agree on."""
    return int(response["statusCode"]), json.loads(response["body"])


def in_process(event: dict[str, Any]) -> tuple[int, Any]:
    """The same event through a resolver in this process over the committed model."""
    settings = Settings.from_environ({"NAMEORIGIN_MODEL_DIR": str(REPOSITORY_MODEL_DIR)})
    models = ModelStore(settings)
    models.load()
    app = create_resolver(settings, models)
    return status_and_body(app.resolve(event, lambda_context(aws_request_id="in-process")))  # type: ignore[arg-type]


def test_built_function_answers_every_event_like_the_in_process_resolver(
    sam_build: SamBuild, lambda_runtime: LambdaRuntime, invoke_module: ModuleType
) -> None:
    events = {
        name: json.loads((ROOT / "events/api" / f"{name}.json").read_text()) for name in EVENTS
    }

    with invoke_module.running_function(
        rie=lambda_runtime.rie,
        python=lambda_runtime.python,
        task_root=sam_build.api_function,
        ric_dir=lambda_runtime.ric_dir,
        handler="nameorigin.lambda_api.handler.lambda_handler",
    ) as url:
        through_lambda = {
            name: status_and_body(invoke_module.invoke(url, e)) for name, e in events.items()
        }

    for name, event in events.items():
        status, body = through_lambda[name]
        expected_status, expected_body = in_process(event)
        assert (status, body) == (expected_status, expected_body), name


def test_make_invoke_runner_prints_the_response(
    sam_build: SamBuild, lambda_runtime: LambdaRuntime
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "events" / "invoke.py"),
            str(ROOT / "events" / "api" / "check_service.json"),
            "--rie",
            str(lambda_runtime.rie),
            "--python",
            lambda_runtime.python,
            "--ric-dir",
            str(lambda_runtime.ric_dir),
            "--task-root",
            str(sam_build.api_function),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["statusCode"] == 200
    assert printed["body"] == {"Message": "Hello world from service"}
