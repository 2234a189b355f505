"""The generated tables say what the figures say: the prior table's "best reached" verdicts."""

from __future__ import annotations

from typing import Any

from training.report import _prior_reach_lines

TARGETS = {
    "tutorial_test_any_label_top1": {"sense": ">=", "bound": 0.87},
    "tutorial_test_any_label_macro_f1": {"sense": ">=", "bound": 0.65},
    "tutorial_test_ece": {"sense": "<=", "bound": 0.03},
}


def _row(weight: float, top1: float, ece: float) -> dict[str, Any]:
    figures = {"balanced_accuracy": 0.6, "macro_f1": 0.5, "top1": top1, "top3": 0.9, "ece": ece}
    return {"weight": weight, "tutorial_test": figures}


def _shift() -> dict[str, Any]:
    return {
        "rows": [_row(0.0, 0.80, 0.05), _row(1.0, 0.88, 0.04)],
        "baselines": {"naive_bayes": [_row(0.0, 0.70, 0.02), _row(1.0, 0.75, 0.10)]},
    }


def test_the_best_of_each_model_is_shown_with_its_weight() -> None:
    lines = _prior_reach_lines(_shift(), TARGETS)

    model = next(line for line in lines if line.startswith("| model | 0."))
    assert "0.880 (*w* = 1)" in model  # top-1 peaks at w = 1
    assert "0.040 (*w* = 1)" in model  # ECE: the lowest is the best
    baseline = next(line for line in lines if line.startswith("| naive_bayes |"))
    assert "0.020 (*w* = 0)" in baseline
    assert next(line for line in lines if line.startswith("| target |")).endswith(
        "| - | >= 0.65 | >= 0.87 | - | <= 0.03 |"
    )


def test_the_verdict_names_who_reaches_a_target_and_says_when_nobody_does() -> None:
    verdict = next(line for line in _prior_reach_lines(_shift(), TARGETS) if "reached" in line)

    assert "top-1: model at *w* = 1" in verdict
    assert "macro-F1: **no model, no prior**" in verdict
    assert "ECE: naive_bayes at *w* = 0" in verdict


def test_without_baselines_there_is_no_comparison_table() -> None:
    assert _prior_reach_lines({"rows": _shift()["rows"]}, TARGETS) == []
