"""The committed artifact, re-scored on the real data, reproduces its committed metrics.json.

This is the one test that needs the real data set (``NAMEORIGIN_DATA_DIR``; CI points it at the
shared copy). In CI a missing variable fails the test; only on a workstation without the data is it
skipped, with the reason spelled out.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from nameorigin.core.manifest import load_manifest
from training.data import load_names
from training.promote import score_artifact
from training.split import split_dataset

DATA_DIR_VARIABLE = "NAMEORIGIN_DATA_DIR"
WORKSTATION_DATA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "names"


def _real_data_dir() -> Path:
    configured = os.environ.get(DATA_DIR_VARIABLE)
    if configured:
        return Path(configured)
    if os.environ.get("CI"):
        pytest.fail(f"{DATA_DIR_VARIABLE} must point at the names data set in CI")
    if WORKSTATION_DATA_DIR.is_dir():
        return WORKSTATION_DATA_DIR
    pytest.skip(f"{DATA_DIR_VARIABLE} is unset and {WORKSTATION_DATA_DIR} is missing (make data)")


@pytest.mark.slow
def test_committed_artifact_reproduces_its_metrics(committed_model_dir: Path) -> None:
    committed: dict[str, Any] = json.loads((committed_model_dir / "metrics.json").read_text())
    manifest = load_manifest(committed_model_dir)
    dataset = load_names(_real_data_dir(), manifest.rule)
    assert dataset.sha256 == manifest.data_sha256 == committed["data_sha256"], (
        "the data differs from what the committed model was trained on"
    )
    recorded_split = committed["split"]
    split = split_dataset(
        dataset.targets,
        test_fraction=recorded_split["test_fraction"],
        validation_fraction=recorded_split["validation_fraction"],
        seed=recorded_split["seed"],
    )
    assert len(split.test) == recorded_split["test"]
    names = [dataset.names[i] for i in split.test]
    measured = score_artifact(
        committed_model_dir, names, dataset.targets[split.test], dataset.labels, manifest.rule
    )
    expected = committed["test"]
    assert measured["examples"] == expected["examples"]
    for key in ("accuracy", "macro_f1", "ece", "ece_before_temperature", "temperature"):
        assert measured[key] == pytest.approx(expected[key], abs=1e-6), key
    assert set(measured["per_class"]) == set(expected["per_class"])
    for label, figures in expected["per_class"].items():
        assert measured["per_class"][label] == pytest.approx(figures, abs=1e-6), label
    assert manifest.metrics["test_accuracy"] == pytest.approx(measured["accuracy"], abs=1e-6)
