"""The promotion gate's verdict and the directory swap it ends with."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.promote import judge, replace_directory


def _metrics(accuracy: float, macro_f1: float) -> dict[str, float]:
    return {"accuracy": accuracy, "macro_f1": macro_f1}


def test_first_model_is_promoted() -> None:
    assert judge(_metrics(0.5, 0.3), None).promote


@pytest.mark.parametrize(
    ("candidate", "promote"),
    [
        (_metrics(0.85, 0.60), True),
        (_metrics(0.90, 0.70), True),
        (_metrics(0.84, 0.70), False),
        (_metrics(0.90, 0.59), False),
    ],
)
def test_candidate_must_be_at_least_as_good_on_every_gated_metric(
    candidate: dict[str, float], promote: bool
) -> None:
    verdict = judge(candidate, _metrics(0.85, 0.60))
    assert verdict.promote is promote
    assert ("worse" in verdict.reason) is not promote


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
