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
from training.pipeline import evaluate_artifact, load_corpus
from training.report import (
    BEGIN,
    DOC,
    END,
    EXAMPLE_BEGIN,
    EXAMPLE_END,
    README,
    SUMMARY_BEGIN,
    SUMMARY_END,
    render,
    render_example,
    render_summary,
)
from training.sources import read_sources
from training.train import TrainingConfig

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
    config = TrainingConfig(**manifest.training["config"])
    dataset, corpus = load_corpus(_real_data_dir(), config, read_sources)
    assert dataset.sha256 == manifest.data_sha256 == committed["data_sha256"], (
        "the data differs from what the committed model was trained on"
    )
    assert corpus.info["extra_sources"]["sha256"] == committed["split"]["extra_sources"]["sha256"]
    assert len(corpus.cross_source_test) == committed["split"]["extra"]["cross_source_test"]
    report, figures = evaluate_artifact(committed_model_dir, corpus, peer=False, baselines={})
    for key, value in committed["headline"].items():
        assert figures[key] == pytest.approx(value, abs=1e-6), key
        assert manifest.metrics[key] == pytest.approx(value, abs=1e-6), key
    for set_name in ("tutorial_test", "cross_source"):
        for mode in ("strict", "any_label"):
            measured = report[set_name]["scores"][mode]["model"]
            expected = committed["evaluations"][set_name]["scores"][mode]["model"]
            assert measured["per_class"].keys() == expected["per_class"].keys()
            for label, row in expected["per_class"].items():
                assert measured["per_class"][label] == pytest.approx(row, abs=1e-6), label


def test_training_doc_shows_the_committed_metrics(committed_model_dir: Path) -> None:
    committed = json.loads((committed_model_dir / "metrics.json").read_text())
    document = DOC.read_text("utf-8")
    block = document[document.index(BEGIN) + len(BEGIN) : document.index(END)]
    assert block.strip() == render(committed).strip(), "run `python -m training.report`"


def test_readme_shows_the_committed_metrics(committed_model_dir: Path) -> None:
    committed = json.loads((committed_model_dir / "metrics.json").read_text())
    readme = README.read_text("utf-8")
    block = readme[readme.index(SUMMARY_BEGIN) + len(SUMMARY_BEGIN) : readme.index(SUMMARY_END)]
    assert block.strip() == render_summary(committed).strip(), "run `python -m training.report`"


def test_readme_example_answer_is_the_committed_models(committed_model_dir: Path) -> None:
    readme = README.read_text("utf-8")
    block = readme[readme.index(EXAMPLE_BEGIN) + len(EXAMPLE_BEGIN) : readme.index(EXAMPLE_END)]
    assert block.strip() == render_example(committed_model_dir).strip(), (
        "run `python -m training.report`"
    )
    answer = json.loads(block.strip().removeprefix("```json").removesuffix("```"))
    assert len(answer["predictions"]) == 2
    assert answer["probabilities"] == sorted(answer["probabilities"], reverse=True)
