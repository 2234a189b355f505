"""The SQS → CloudEvents feed and the core objects beside the Service.

No IntegrationSource CRD is available offline, so its test checks the fields the Knative docs
define and, above all, that its sink is this Service's CloudEvents endpoint.
"""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from nameorigin.server.app import CLOUDEVENTS_PATH

Manifest = dict[str, Any]
KUBERNETES_VERSION = "1.33.0"


def of_kind(documents: list[Manifest], kind: str) -> Manifest:
    [document] = [doc for doc in documents if doc["kind"] == kind]
    return document


@pytest.mark.parametrize("variant", ["base", "dev", "prod"])
def test_the_queue_source_feeds_the_services_cloudevents_endpoint(
    variant: str, rendered: dict[str, list[Manifest]]
) -> None:
    documents = rendered[variant]
    source = of_kind(documents, "IntegrationSource")
    service = of_kind(documents, "Service")
    assert source["apiVersion"] == "sources.knative.dev/v1alpha1"
    sink = source["spec"]["sink"]
    assert sink["ref"] == {
        "apiVersion": service["apiVersion"],
        "kind": "Service",
        "name": service["metadata"]["name"],
    }
    assert sink["uri"] == CLOUDEVENTS_PATH
    assert source["metadata"].get("namespace") == service["metadata"].get("namespace")
    sqs = source["spec"]["aws"]["sqs"]
    assert sqs["arn"] and sqs["region"]
    # A message must stay invisible while the Service may still be working on it.
    assert sqs["visibilityTimeout"] > service["spec"]["template"]["spec"]["timeoutSeconds"]
    assert "secret" not in source["spec"]["aws"]["auth"], "credentials come from the IAM role"


def test_each_environment_reads_its_own_queue(rendered: dict[str, list[Manifest]]) -> None:
    arns = {
        variant: of_kind(rendered[variant], "IntegrationSource")["spec"]["aws"]["sqs"]["arn"]
        for variant in ("dev", "prod")
    }
    assert arns["dev"] != arns["prod"]
    assert all(arn.startswith("arn:aws:sqs:") for arn in arns.values())


@pytest.mark.parametrize("variant", ["base", "dev", "prod"])
def test_core_objects_are_valid_kubernetes(
    variant: str, rendered: dict[str, list[Manifest]]
) -> None:
    core = [doc for doc in rendered[variant] if doc["apiVersion"] == "v1"]
    assert [doc["kind"] for doc in core] == ["ServiceAccount"]
    for document in core:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    service = of_kind(rendered[variant], "Service")
    assert service["spec"]["template"]["spec"]["serviceAccountName"] == core[0]["metadata"]["name"]


def test_kubernetes_validate_refuses_a_broken_core_object(
    rendered: dict[str, list[Manifest]],
) -> None:
    account = dict(of_kind(rendered["base"], "ServiceAccount"))
    account["automountServiceAccountToken"] = "no"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(account, KUBERNETES_VERSION, strict=True)
