"""The experiments table: which rows a run re-trains and which it keeps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from training import experiments


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A results file holding one recorded row per variant, and no training allowed."""
    path = tmp_path / "experiments.json"
    rows = [{"variant": name, "recorded": True} for name in experiments.VARIANTS]
    path.write_text(json.dumps({"variants": rows}))
    monkeypatch.setattr(experiments, "RESULTS", path)
    monkeypatch.setattr(experiments.torch, "set_num_threads", lambda _: None)
    monkeypatch.setattr(
        experiments, "committed_row", lambda _: {"variant": experiments.COMMITTED_ROW}
    )
    return path


def _rows(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(path.read_text())["variants"]
    return rows


def test_committed_only_keeps_every_variant_and_rereads_the_committed_row(
    results: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_training(*_: object) -> dict[str, Any]:
        raise AssertionError("no variant may be re-trained")

    monkeypatch.setattr(experiments, "run_variant", no_training)
    experiments.main(Path("data"), Path("artifacts"), committed_only=True)
    rows = _rows(results)
    assert [row["variant"] for row in rows] == [*experiments.VARIANTS, experiments.COMMITTED_ROW]
    assert all(row.get("recorded") for row in rows[:-1])


def test_only_retrains_the_named_variant(results: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = next(iter(experiments.VARIANTS))
    trained: list[str] = []

    def fake_training(name: str, overrides: dict[str, Any], data_dir: Path) -> dict[str, Any]:
        trained.append(name)
        return {"variant": name, "config": overrides}

    monkeypatch.setattr(experiments, "run_variant", fake_training)
    experiments.main(Path("data"), Path("artifacts"), [first])
    assert trained == [first]
    rows = _rows(results)
    assert rows[0] == {"variant": first, "config": experiments.VARIANTS[first]}
    assert all(row.get("recorded") for row in rows[1:-1])


def test_every_row_before_the_head_names_how_it_was_selected() -> None:
    names = list(experiments.VARIANTS)
    first_with_head = next(i for i, name in enumerate(names) if "naive Bayes head" in name)
    before = [experiments.VARIANTS[name] for name in names[:first_with_head]]
    assert before
    # Rows after the head are the committed config with one change: none turns the head off.
    assert all("naive_bayes_head" not in experiments.VARIANTS[n] for n in names[first_with_head:])
    for overrides in before:
        assert overrides["selection_figures"] == "balanced_accuracy"
        assert overrides["naive_bayes_head"] is False
