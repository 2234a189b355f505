"""Who may call the API (parameter ApiAccess) and what the functions may do (IAM), checked on the
template as CloudFormation receives it: after the SAM transform (samtranslator from .venv-sam),
with its conditions resolved for each ApiAccess value.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from .conftest import ROOT, load_template, sam_transformed

ACCESS_VALUES = ("None", "ApiKey", "Iam")
SECURITY = {"None": [], "ApiKey": [{"api_key": []}], "Iam": [{"sigv4": []}]}
#: Actions whose only resource AWS allows is "*" (X-Ray segments and sampling, CloudWatch metrics).
STAR_ONLY_ACTIONS = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:GetSamplingStatisticSummaries",
    "cloudwatch:PutMetricData",
}
#: AWS-managed policies SAM attaches: basic logging, X-Ray when tracing is on, and CodeDeploy's
#: own role for the canary deployment of the API alias.
ALLOWED_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda",
}


@cache
def transformed(access: str) -> dict[str, Any]:
    """The SAM-transformed template for one ApiAccess value, conditions resolved."""
    template = sam_transformed(ROOT / "template.yaml", {"ApiAccess": access})
    return resolve_conditions(template, {**defaults(template), "ApiAccess": access})


def defaults(template: dict[str, Any]) -> dict[str, Any]:
    return {name: spec.get("Default") for name, spec in template["Parameters"].items()}


def resolve_conditions(template: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """Drop resources and outputs whose condition is false; resolve every Fn::If."""

    def evaluate(expression: Any) -> Any:
        if isinstance(expression, dict) and len(expression) == 1:
            ((name, value),) = expression.items()
            if name == "Ref":
                return parameters.get(value, value)
            if name == "Fn::Equals":
                return evaluate(value[0]) == evaluate(value[1])
            if name == "Fn::Not":
                return not evaluate(value[0])
            if name == "Condition":
                return conditions[value]
        return expression

    conditions = {name: evaluate(body) for name, body in template.get("Conditions", {}).items()}

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                name, when_true, when_false = node["Fn::If"]
                return resolve(when_true if conditions[name] else when_false)
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    for section in ("Resources", "Outputs"):
        template[section] = {
            name: item
            for name, item in template.get(section, {}).items()
            if "Condition" not in item or conditions[item["Condition"]]
        }
    return dict(resolve(template))


def api_methods(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    body = template["Resources"]["NameOriginApi"]["Properties"]["Body"]
    return {path: item["x-amazon-apigateway-any-method"] for path, item in body["paths"].items()}


def test_every_event_path_is_a_method_proxying_to_the_function() -> None:
    events = load_template(ROOT / "template.yaml")["Resources"]["ApiFunction"]["Properties"]
    event_paths = {event["Properties"]["Path"] for event in events["Events"].values()}
    methods = api_methods(transformed("None"))

    assert set(methods) == event_paths
    # The document invokes what the events' permissions allow: the live alias (canary rollouts).
    template = transformed("None")
    [target] = {
        resource["Properties"]["FunctionName"]["Ref"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Permission"
        and resource["Properties"]["Principal"] == "apigateway.amazonaws.com"
    }
    assert template["Resources"][target]["Type"] == "AWS::Lambda::Alias"
    for method in methods.values():
        integration = method["x-amazon-apigateway-integration"]
        assert integration["type"] == "aws_proxy" and integration["httpMethod"] == "POST"
        assert f"${{{target}}}/invocations" in integration["uri"]["Fn::Sub"]


@pytest.mark.parametrize("access", ACCESS_VALUES)
def test_every_method_requires_what_api_access_says(access: str) -> None:
    template = transformed(access)

    for path, method in api_methods(template).items():
        assert method["security"] == SECURITY[access], path
    key_resources = {"ApiUsagePlan", "ApiKey", "ApiUsagePlanKey"}
    if access == "ApiKey":
        assert key_resources <= set(template["Resources"])
        plan = template["Resources"]["ApiUsagePlan"]["Properties"]
        assert plan["Quota"] == {"Limit": {"Ref": "ApiKeyQuotaPerDay"}, "Period": "DAY"}
        assert plan["ApiStages"][0]["ApiId"] == {"Ref": "NameOriginApi"}
        assert "ApiKeyId" in template["Outputs"]
    else:
        assert not key_resources & set(template["Resources"])
        assert "ApiKeyId" not in template["Outputs"]


def test_the_default_keeps_the_api_open_as_before() -> None:
    parameters = load_template(ROOT / "template.yaml")["Parameters"]

    assert parameters["ApiAccess"]["Default"] == "None"
    assert set(parameters["ApiAccess"]["AllowedValues"]) == set(ACCESS_VALUES)


def allow_statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    statements = []
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for policy in resource["Properties"].get("Policies", []):
            document = policy["PolicyDocument"]["Statement"]
            for statement in document if isinstance(document, list) else [document]:
                if statement["Effect"] == "Allow":
                    statements.append((name, statement))
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("tracing", ["PassThrough", "Active"])
def test_no_allow_statement_uses_a_star_resource_where_a_narrower_one_exists(
    tracing: str,
) -> None:
    template = transformed("None") if tracing == "PassThrough" else transformed_with_tracing()
    statements = allow_statements(template)

    assert statements, "expected inline policies (the batch function's)"
    for role, statement in statements:
        resources = as_list(statement.get("Resource", []))
        actions = set(as_list(statement["Action"]))
        assert "*" not in actions and not any(a.endswith(":*") for a in actions), (role, actions)
        if any(resource == "*" for resource in resources):
            assert actions <= STAR_ONLY_ACTIONS, (role, statement)
        for resource in resources:
            text = json.dumps(resource)
            assert not text.endswith(':*"') and "arn:aws:s3:::*" not in text, (role, resource)
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            managed = set(resource["Properties"].get("ManagedPolicyArns", []))
            assert managed <= ALLOWED_MANAGED_POLICIES, (name, managed)


@cache
def transformed_with_tracing() -> dict[str, Any]:
    template = sam_transformed(ROOT / "template.yaml", {"XRayTracing": "Active"})
    return resolve_conditions(template, {**defaults(template), "XRayTracing": "Active"})
