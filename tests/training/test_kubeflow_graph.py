"""The compiled Kubeflow pipeline: the steps in make train's order, the gate as a condition, the
metrics as kfp artifacts, one image, and nothing installed at run time."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import hadolint_findings

from training.kubeflow.components import IMAGE
from training.kubeflow.graph import compiled_text

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPOSITORY_ROOT / "training" / "kubeflow" / "Dockerfile"
IGNORE_FILE = REPOSITORY_ROOT / "training" / "kubeflow" / "Dockerfile.dockerignore"
#: make train's steps, as components: each must wait for the one before it.
CHAIN = ["check-and-split", "train-and-calibrate", "export", "parity", "evaluate", "gate"]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """The IR YAML as data."""
    document: dict[str, Any] = yaml.safe_load(compiled_text())
    return document


def _dependencies(tasks: dict[str, Any], name: str) -> set[str]:
    return set(tasks[name].get("dependentTasks", []))


def test_the_steps_run_in_make_trains_order(spec: dict[str, Any]) -> None:
    tasks = spec["root"]["dag"]["tasks"]
    for before, after in itertools.pairwise(CHAIN):
        assert before in _dependencies(tasks, after), f"{after} does not wait for {before}"
    assert tasks["check-and-split"]["cachingOptions"] == {}  # caching off: data changes
    assert tasks["gate"]["cachingOptions"] == {}
    assert tasks["train-and-calibrate"]["cachingOptions"] == {"enableCache": True}


def test_publish_runs_only_when_the_gate_promotes(spec: dict[str, Any]) -> None:
    branches = spec["root"]["dag"]["tasks"]["condition-branches-1"]
    assert _dependencies(spec["root"]["dag"]["tasks"], "condition-branches-1") >= {"gate"}
    inner = spec["components"]["comp-condition-branches-1"]["dag"]["tasks"]
    conditions = {
        name: task["triggerPolicy"]["condition"].replace("\n", " ") for name, task in inner.items()
    }
    promoted = spec["components"][inner["condition-2"]["componentRef"]["name"]]["dag"]["tasks"]
    refused = spec["components"][inner["condition-3"]["componentRef"]["name"]]["dag"]["tasks"]
    assert set(promoted) == {"publish"}
    assert set(refused) == {"refuse"}
    assert re.search(r"gate-promote'\]\s*==\s*true", conditions["condition-2"])
    assert "!(" in conditions["condition-3"]  # the Else: the negation of the If
    assert branches["componentRef"]["name"] == "comp-condition-branches-1"


def test_metrics_and_confusion_are_kfp_metric_artifacts(spec: dict[str, Any]) -> None:
    outputs = spec["components"]["comp-evaluate"]["outputDefinitions"]["artifacts"]
    assert outputs["scores"]["artifactType"]["schemaTitle"] == "system.Metrics"
    assert outputs["confusion"]["artifactType"]["schemaTitle"] == "system.ClassificationMetrics"
    assert outputs["candidate"]["artifactType"]["schemaTitle"] == "system.Model"


def test_every_component_runs_the_training_image_without_installing(spec: dict[str, Any]) -> None:
    executors = spec["deploymentSpec"]["executors"]
    assert len(executors) == len(CHAIN) + 2  # + publish, refuse
    for name, executor in executors.items():
        container = executor["container"]
        assert container["image"] == IMAGE, name
        assert "pip install" not in " ".join(container["command"]), name


def test_the_dockerfile_is_hadolint_clean_and_installs_the_training_extras() -> None:
    assert hadolint_findings(DOCKERFILE) == ""
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert '".[train,pipeline]"' in text
    assert "COPY training training" in text
    assert IMAGE.rsplit("/", 1)[1].split(":")[0] in text
    assert re.search(r"^USER 65532", text, re.MULTILINE)
    ignored = IGNORE_FILE.read_text(encoding="utf-8").splitlines()
    assert ignored[ignored.index("*") + 1 :][:4] == [
        "!pyproject.toml",
        "!README.md",
        "!functions/nameorigin",
        "!training",
    ]
