"""Knative rollouts: prod pins its named revision; prod-candidate splits traffic with a candidate.

Rendered by the real kustomize and validated against the Knative Service CRD (strict), like the
other overlays (conftest.py). docs/rollout.md has the commands these manifests are for.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest

from .conftest import KNATIVE_DIR, Manifest, only, render

PROD = KNATIVE_DIR / "overlays" / "prod"
CANDIDATE = KNATIVE_DIR / "overlays" / "prod-candidate"


def schema_errors(schema: dict[str, Any], service: Manifest) -> list[str]:
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(service)
    ]


def revision_name_for(service: Manifest) -> str:
    """The revision name the rollout convention gives the Service's image: nameorigin-<tag>."""
    [container] = service["spec"]["template"]["spec"]["containers"]
    tag = container["image"].rsplit(":", 1)[1]
    return f"{service['metadata']['name']}-{tag.replace('.', '-')}"


@pytest.fixture(scope="module")
def prod() -> Manifest:
    return only(render(PROD), "Service")


@pytest.fixture(scope="module")
def candidate() -> Manifest:
    return only(render(CANDIDATE), "Service")


def test_the_candidate_overlay_is_a_service_the_crd_accepts(
    candidate: Manifest, service_crd_schema: dict[str, Any]
) -> None:
    assert schema_errors(service_crd_schema, candidate) == []


def test_the_crd_checks_the_traffic_block(
    candidate: Manifest, service_crd_schema: dict[str, Any]
) -> None:
    broken = copy.deepcopy(candidate)
    broken["spec"]["traffic"][1]["percent"] = "10%"
    broken["spec"]["traffic"][0]["revison"] = "typo"

    errors = schema_errors(service_crd_schema, broken)

    assert any("'10%'" in error for error in errors), errors
    assert any("revison" in error for error in errors), errors


def test_prod_names_its_revision_after_its_image_and_sends_it_all_traffic(prod: Manifest) -> None:
    name = prod["spec"]["template"]["metadata"]["name"]

    assert name == revision_name_for(prod)
    # By name, not latestRevision: re-applying prod after a candidate is the rollback.
    assert prod["spec"]["traffic"] == [{"revisionName": name, "percent": 100, "tag": "stable"}]


def test_the_candidate_takes_a_share_beside_the_stable_revision(
    prod: Manifest, candidate: Manifest
) -> None:
    stable_name = prod["spec"]["template"]["metadata"]["name"]
    candidate_name = candidate["spec"]["template"]["metadata"]["name"]
    traffic = {entry["tag"]: entry for entry in candidate["spec"]["traffic"]}

    assert candidate_name == revision_name_for(candidate)
    assert candidate_name != stable_name
    assert set(traffic) == {"stable", "candidate"}
    assert traffic["stable"]["revisionName"] == stable_name
    assert traffic["candidate"]["revisionName"] == candidate_name
    assert 0 < traffic["candidate"]["percent"] < 100
    assert sum(entry["percent"] for entry in traffic.values()) == 100
    assert not any(entry.get("latestRevision") for entry in traffic.values())


def test_the_candidate_differs_from_prod_only_in_image_revision_and_traffic(
    prod: Manifest, candidate: Manifest
) -> None:
    def without_rollout_fields(service: Manifest) -> Manifest:
        copied = copy.deepcopy(service)
        copied["spec"].pop("traffic")
        copied["spec"]["template"]["metadata"].pop("name")
        copied["spec"]["template"]["spec"]["containers"][0].pop("image")
        return copied

    assert without_rollout_fields(candidate) == without_rollout_fields(prod)
    assert candidate["metadata"]["namespace"] == prod["metadata"]["namespace"]


def test_the_candidate_overlay_renders_everything_prod_renders() -> None:
    def kinds(directory: Any) -> list[tuple[str, str]]:
        return sorted((doc["kind"], doc["metadata"]["name"]) for doc in render(directory))

    assert kinds(CANDIDATE) == kinds(PROD)
