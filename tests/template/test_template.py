"""template.yaml: valid for SAM and cfn-lint (offline), every route wired, SLO alarms, pins."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from locks import LAMBDA_LOCK, canonical, read_lock
from packaging.requirements import Requirement

from nameorigin.config import Settings
from nameorigin.core.model_store import ModelStore
from nameorigin.routes.resolver import create_resolver

from .conftest import ROOT, SAM, run_in_repository

API_FUNCTION = "ApiFunction"


def resources_of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """The template's resources of one CloudFormation type."""
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == kind
    }


def test_sam_validate_lint_passes_offline() -> None:
    result = run_in_repository([str(SAM), "validate", "--lint", "-t", str(ROOT / "template.yaml")])

    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_cfn_lint_passes() -> None:
    cfn_lint = ROOT / ".venv" / "bin" / "cfn-lint"

    result = run_in_repository([str(cfn_lint), str(ROOT / "template.yaml")])

    assert result.returncode == 0, result.stdout + result.stderr


def test_every_route_reaches_the_function_for_every_method(template: dict[str, Any]) -> None:
    events = template["Resources"][API_FUNCTION]["Properties"]["Events"]
    wired = {(e["Properties"]["Path"], e["Properties"]["Method"]) for e in events.values()}

    settings = Settings.from_environ({})
    for route in {r.path for r in create_resolver(settings, ModelStore(settings))._routes()}:
        path = re.sub(r"<(\w+)>", r"{\1}", route)
        assert (path, "ANY") in wired, f"{path} is not wired with Method ANY"
    assert ("/{proxy+}", "ANY") in wired  # unknown paths get the resolver's JSON 404
    assert ("/", "ANY") in wired


def test_api_function_runs_the_handler_and_bundles_the_model(template: dict[str, Any]) -> None:
    function = template["Resources"][API_FUNCTION]

    assert function["Properties"]["Handler"] == "nameorigin.lambda_api.handler.lambda_handler"
    assert (ROOT / "functions" / "nameorigin" / "lambda_api" / "handler.py").is_file()
    assert function["Properties"]["CodeUri"] == "functions/"
    assert function["Metadata"]["BuildMethod"] == "makefile"
    assert isinstance(function["Properties"]["MemorySize"], int)


def test_globals_pin_a_runtime_that_can_load_the_onnxruntime_wheel(
    template: dict[str, Any],
) -> None:
    function_globals = template["Globals"]["Function"]

    # onnxruntime 1.32 wheels are manylinux_2_28: python3.12+ (Amazon Linux 2023), not python3.11.
    assert function_globals["Runtime"] == "python3.12"
    variables = function_globals["Environment"]["Variables"]
    # One switch drives Lambda's tracing, API Gateway's and Powertools Tracer's (off by default).
    assert function_globals["Tracing"] == {"Ref": "XRayTracing"}
    assert template["Parameters"]["XRayTracing"]["Default"] == "PassThrough"
    assert variables["NAMEORIGIN_TRACING"] == {"Fn::If": ["TracingOn", "true", "false"]}
    assert variables["POWERTOOLS_SERVICE_NAME"] == "nameorigin"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "NameOrigin"


def test_slo_alarms_notify_the_alarm_topic(template: dict[str, Any]) -> None:
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
    latency = alarms["ApiLatencyP99Alarm"]["Properties"]

    assert latency["ExtendedStatistic"] == "p99"
    assert latency["Threshold"] == {"Ref": "LatencyP99ThresholdMs"}
    errors = alarms["Api5xxRateAlarm"]["Properties"]
    assert {m["Id"] for m in errors["Metrics"]} >= {"errors", "requests", "rate"}
    assert errors["Threshold"] == {"Ref": "ServerErrorRateThreshold"}
    assert alarms["ApiFunctionThrottlesAlarm"]["Properties"]["MetricName"] == "Throttles"
    for alarm in alarms.values():
        assert {"Ref": "AlarmTopic"} in alarm["Properties"]["AlarmActions"]


def test_email_subscription_is_optional(template: dict[str, Any]) -> None:
    subscription = template["Resources"]["AlarmEmailSubscription"]

    assert subscription["Condition"] == "HasAlarmEmail"
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""


def test_outputs_give_the_api_url(template: dict[str, Any]) -> None:
    url = template["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"]

    assert url.startswith("https://${NameOriginApi}.execute-api.")


def test_lambda_lock_pins_the_project_dependencies_at_their_versions() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    locked = read_lock(LAMBDA_LOCK)

    for requirement in map(Requirement, pyproject["project"]["dependencies"]):
        (pinned,) = requirement.specifier
        assert pinned.operator == "=="
        assert locked[canonical(requirement.name)][0] == pinned.version, requirement
    assert not any(name.startswith("torch") for name in locked)


def test_samconfig_names_the_stack_and_lints_on_validate() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))

    assert config["default"]["global"]["parameters"]["stack_name"] == "nameorigin"
    assert config["default"]["validate"]["parameters"]["lint"] is True
