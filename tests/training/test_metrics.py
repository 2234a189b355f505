"""Scores: balanced accuracy, macro-F1, top-k, strict vs any-label, bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest

from training.metrics import labelled_set, score

LABELS = ("A", "B", "C")


def _scores(predicted: list[int]) -> np.ndarray:
    table = np.zeros((len(predicted), len(LABELS)))
    for row, label in enumerate(predicted):
        table[row] = [0.1, 0.2, 0.3]
        table[row, label] = 1.0
    return table


def test_perfect_answers_score_one_everywhere() -> None:
    evaluation = labelled_set("x", ["a", "b", "c"], np.array([0, 1, 2]), 3)
    result = score(_scores([0, 1, 2]), evaluation, LABELS, rounds=50)
    for key in ("balanced_accuracy", "macro_f1", "top1", "top3"):
        assert result[key] == 1.0
        assert result["interval95"][key] == [1.0, 1.0]


def test_balanced_accuracy_weighs_each_class_equally() -> None:
    # 8 A (all right), 2 B (one right): accuracy 0.9, balanced accuracy (1 + 0.5) / 2.
    targets = np.array([0] * 8 + [1] * 2)
    evaluation = labelled_set("x", [f"n{i}" for i in range(10)], targets, 3)
    result = score(_scores([0] * 8 + [1, 0]), evaluation, LABELS, rounds=0)
    assert result["top1"] == pytest.approx(0.9)
    assert result["balanced_accuracy"] == pytest.approx(0.75)
    assert result["classes"] == 2
    assert set(result["per_class"]) == {"A", "B"}


def test_any_label_accepts_another_label_of_the_same_name() -> None:
    evaluation = labelled_set("x", ["abel", "abel", "x"], np.array([0, 1, 2]), 3)
    answers = _scores([0, 0, 2])
    strict = score(answers, evaluation, LABELS, rounds=0)
    lenient = score(answers, evaluation, LABELS, any_label=True, rounds=0)
    assert strict["top1"] == pytest.approx(2 / 3)
    assert lenient["top1"] == 1.0
    assert lenient["balanced_accuracy"] == 1.0


def test_top3_counts_the_label_among_the_three_best() -> None:
    evaluation = labelled_set("x", ["a"], np.array([2]), 3)
    answers = np.array([[0.9, 0.5, 0.1]])
    result = score(answers, evaluation, LABELS, rounds=0)
    assert (result["top1"], result["top3"]) == (0.0, 1.0)


def test_interval_brackets_the_estimate() -> None:
    generator = np.random.default_rng(0)
    targets = generator.integers(0, 3, 300)
    predicted = np.where(generator.random(300) < 0.7, targets, (targets + 1) % 3)
    evaluation = labelled_set("x", [f"n{i}" for i in range(300)], targets, 3)
    result = score(_scores(predicted.tolist()), evaluation, LABELS, rounds=200)
    for key in ("balanced_accuracy", "macro_f1", "top1"):
        low, high = result["interval95"][key]
        assert low < result[key] < high
        assert high - low < 0.2
