"""Safe rollouts in template.yaml: alias, canary, rollback alarms, SnapStart (docs/rollout.md).

The wiring is checked on what CloudFormation receives: template.yaml transformed by the SAM
translator that ships with the pinned SAM CLI (offline; only the package location is faked).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, sam_transformed

ALIAS = "live"
ROLLBACK_ALARMS = {"ApiLatencyP99Alarm", "Api5xxRateAlarm", "ApiFunctionNewVersionErrorsAlarm"}


def transformed(template_path: Path, parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """template.yaml through samtranslator (what `sam deploy` sends to CloudFormation)."""
    return sam_transformed(template_path, parameters)


@pytest.fixture(scope="module")
def cloudformation() -> dict[str, Any]:
    """template.yaml as CloudFormation sees it (default parameters)."""
    return transformed(ROOT / "template.yaml")


def of_type(document: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in document["Resources"].items() if r["Type"] == kind}


def test_the_api_function_publishes_versions_behind_the_live_alias(
    template: dict[str, Any], cloudformation: dict[str, Any]
) -> None:
    assert template["Resources"]["ApiFunction"]["Properties"]["AutoPublishAlias"] == ALIAS
    alias = cloudformation["Resources"][f"ApiFunction{'Alias'}{ALIAS}"]
    assert alias["Type"] == "AWS::Lambda::Alias"
    [version] = [
        name
        for name, r in of_type(cloudformation, "AWS::Lambda::Version").items()
        if r["Properties"]["FunctionName"] == {"Ref": "ApiFunction"}
    ]
    assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version, "Version"]}
    # A version is kept when the next one replaces it: that is what a rollback returns to.
    assert cloudformation["Resources"][version]["DeletionPolicy"] == "Retain"


def test_api_gateway_invokes_the_alias_never_the_unqualified_function(
    cloudformation: dict[str, Any],
) -> None:
    permissions = [
        r["Properties"]
        for r in of_type(cloudformation, "AWS::Lambda::Permission").values()
        if r["Properties"]["Principal"] == "apigateway.amazonaws.com"
    ]
    assert permissions
    for permission in permissions:
        assert permission["FunctionName"] == {"Ref": f"ApiFunctionAlias{ALIAS}"}
    body = json.dumps(cloudformation["Resources"]["NameOriginApi"]["Properties"]["Body"])
    integrations = re.findall(r"functions/\$\{(\w+(?:\.\w+)?)\}/invocations", body)
    assert integrations
    assert set(integrations) == {f"ApiFunctionAlias{ALIAS}"}


def test_codedeploy_shifts_the_alias_as_a_canary_and_rolls_back_on_the_slo_alarms(
    template: dict[str, Any], cloudformation: dict[str, Any]
) -> None:
    alias = cloudformation["Resources"][f"ApiFunctionAlias{ALIAS}"]
    update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    group = cloudformation["Resources"][update["DeploymentGroupName"]["Ref"]]
    assert group["Type"] == "AWS::CodeDeploy::DeploymentGroup"
    properties = group["Properties"]
    assert properties["DeploymentStyle"]["DeploymentOption"] == "WITH_TRAFFIC_CONTROL"
    default = template["Parameters"]["DeploymentType"]["Default"]
    assert default.startswith("Canary10Percent")
    assert json.dumps(properties["DeploymentConfigName"]).count(default) == 1
    alarms = properties["AlarmConfiguration"]
    assert alarms["Enabled"] is True
    assert {a["Name"]["Ref"] for a in alarms["Alarms"]} == ROLLBACK_ALARMS
    rollback = properties["AutoRollbackConfiguration"]
    assert rollback["Enabled"] is True
    assert "DEPLOYMENT_STOP_ON_ALARM" in rollback["Events"]


def rollback_alarm_problems(document: dict[str, Any]) -> list[str]:
    """Rollback alarms of the API deployment group that are not notifying alarms of the stack.

    Neither `sam validate --lint` nor cfn-lint looks inside DeploymentPreference.Alarms (a typo
    passes both), so this check is the guard.
    """
    [group] = of_type(document, "AWS::CodeDeploy::DeploymentGroup").values()
    alarms = of_type(document, "AWS::CloudWatch::Alarm")
    problems = []
    for entry in group["Properties"]["AlarmConfiguration"]["Alarms"]:
        name = entry["Name"]["Ref"]
        if name not in alarms:
            problems.append(f"{name} is not an alarm of the stack")
        elif {"Ref": "AlarmTopic"} not in alarms[name]["Properties"]["AlarmActions"]:
            problems.append(f"{name} notifies nobody")
    return problems


def test_every_rollback_alarm_is_an_alarm_of_this_stack_that_notifies(
    cloudformation: dict[str, Any], tmp_path: Path
) -> None:
    assert rollback_alarm_problems(cloudformation) == []
    # The same check on a template with a typo in one rollback alarm's name.
    source = (ROOT / "template.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "template.yaml"
    broken.write_text(source.replace("- !Ref Api5xxRateAlarm\n", "- !Ref Api5xxRateAlrm\n"))
    assert rollback_alarm_problems(transformed(broken)) == [
        "Api5xxRateAlrm is not an alarm of the stack"
    ]


def test_the_new_version_alarm_watches_the_version_the_alias_is_moving_to(
    cloudformation: dict[str, Any],
) -> None:
    alarm = cloudformation["Resources"]["ApiFunctionNewVersionErrorsAlarm"]["Properties"]
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    alias = cloudformation["Resources"][f"ApiFunctionAlias{ALIAS}"]["Properties"]

    assert dimensions["FunctionName"] == {"Ref": "ApiFunction"}
    assert dimensions["Resource"] == {"Fn::Sub": f"${{ApiFunction}}:{ALIAS}"}
    # Lambda publishes alias metrics per ExecutedVersion: this one is the new version's.
    assert dimensions["ExecutedVersion"] == alias["FunctionVersion"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", "Errors")
    assert alarm["Period"] * alarm["EvaluationPeriods"] <= 5 * 60  # fires within any canary


def test_the_canary_lasts_long_enough_for_the_api_alarms_to_fire(
    template: dict[str, Any],
) -> None:
    resources = template["Resources"]
    bake_minutes = int(
        re.fullmatch(
            r"Canary10Percent(\d+)Minutes", template["Parameters"]["DeploymentType"]["Default"]
        )[1]  # type: ignore[index]
    )
    latency = resources["ApiLatencyP99Alarm"]["Properties"]
    errors = resources["Api5xxRateAlarm"]["Properties"]
    # p99: DatapointsToAlarm periods must breach; 5xx rate: one full period of its metrics.
    assert latency["DatapointsToAlarm"] * latency["Period"] <= bake_minutes * 60
    periods = {m["MetricStat"]["Period"] for m in errors["Metrics"] if "MetricStat" in m}
    assert max(periods) * errors["EvaluationPeriods"] <= bake_minutes * 60


def test_the_batch_queue_invokes_the_batch_alias(
    template: dict[str, Any], cloudformation: dict[str, Any]
) -> None:
    assert template["Resources"]["BatchFunction"]["Properties"]["AutoPublishAlias"] == ALIAS
    [mapping] = of_type(cloudformation, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["FunctionName"] == {"Ref": f"BatchFunctionAlias{ALIAS}"}
    assert cloudformation["Resources"][f"BatchFunctionAlias{ALIAS}"]["Type"] == "AWS::Lambda::Alias"


def test_snapstart_is_a_parameter_off_by_default(
    template: dict[str, Any], cloudformation: dict[str, Any]
) -> None:
    parameter = template["Parameters"]["SnapStart"]
    assert parameter["Default"] == "false"
    assert template["Conditions"]["SnapStartOn"] == {"Fn::Equals": [{"Ref": "SnapStart"}, "true"]}
    snap_start = cloudformation["Resources"]["ApiFunction"]["Properties"]["SnapStart"]
    assert snap_start == {"ApplyOn": {"Fn::If": ["SnapStartOn", "PublishedVersions", "None"]}}
    # Lambda refuses SnapStart with more than 512 MB of ephemeral storage (the batch function's
    # spool needs 2048 MB), so it stays off there.
    batch = template["Resources"]["BatchFunction"]["Properties"]
    assert batch["EphemeralStorage"]["Size"] > 512
    assert "SnapStart" not in batch


def test_samconfig_deploys_with_the_iam_capability_codedeploy_needs() -> None:
    # SAM creates CodeDeploy's service role for the deployment preference.
    text = (ROOT / "samconfig.toml").read_text(encoding="utf-8")
    assert re.search(r'capabilities\s*=\s*"[^"]*CAPABILITY_IAM', text)
