"""The promotion gate's verdict and the directory swap it ends with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from training.promote import judge, replace_directory


def _report(cross_source: float, tutorial_balanced: float, tutorial_f1: float) -> dict[str, Any]:
    def figures(**values: float) -> dict[str, Any]:
        return {"scores": {mode: {"model": values} for mode in ("strict", "any_label")}}

    return {
        "cross_source": figures(balanced_accuracy=cross_source),
        "tutorial_test": figures(balanced_accuracy=tutorial_balanced, macro_f1=tutorial_f1),
    }


def test_first_model_is_promoted() -> None:
    assert judge(_report(0.5, 0.3, 0.3), None).promote


@pytest.mark.parametrize(
    ("candidate", "promote"),
    [
        (_report(0.70, 0.60, 0.50), True),
        (_report(0.80, 0.65, 0.55), True),
        (_report(0.699, 0.60, 0.50), True),  # within the tolerance of a retrained twin
        (_report(0.69, 0.70, 0.70), False),  # cross-source names come first
        (_report(0.80, 0.59, 0.50), False),
        (_report(0.80, 0.60, 0.49), False),
    ],
)
def test_candidate_must_be_at_least_as_good_on_every_gated_figure(
    candidate: dict[str, Any], promote: bool
) -> None:
    verdict = judge(candidate, _report(0.70, 0.60, 0.50))
    assert verdict.promote is promote
    assert ("worse" in verdict.reason) is not promote


def test_a_set_missing_on_either_side_is_not_compared() -> None:
    candidate = _report(0.10, 0.60, 0.50)
    del candidate["cross_source"]
    assert judge(candidate, _report(0.90, 0.60, 0.50)).promote


def _folder(path: Path, content: str) -> Path:
    path.mkdir(parents=True)
    (path / "manifest.json").write_text(content)
    return path


def test_replace_swaps_in_the_new_folder_and_keeps_the_old_one(tmp_path: Path) -> None:
    target = _folder(tmp_path / "artifacts", "old")
    new = _folder(tmp_path / "work" / "candidate", "new")
    previous = _folder(tmp_path / "work" / "previous", "older")
    replace_directory(new, target, previous)
    assert (target / "manifest.json").read_text() == "new"
    assert (previous / "manifest.json").read_text() == "old"
    assert not new.exists()


def test_replace_creates_a_missing_target(tmp_path: Path) -> None:
    new = _folder(tmp_path / "candidate", "new")
    replace_directory(new, tmp_path / "artifacts", tmp_path / "previous")
    assert (tmp_path / "artifacts" / "manifest.json").read_text() == "new"
