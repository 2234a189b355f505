"""Scores that hold up on names the model never saw: balanced, macro, top-k, with intervals.

Every evaluation set (tutorial test split, cross-source names) and every model (candidate,
committed artifact, baselines, peer) is scored by :func:`score`, so the numbers in
``metrics.json`` compare like with like. A name filed under several labels is scored *strict*
(each (name, label) pair must be answered with its own label) and *any-label* (answering any
of the name's labels counts as right).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating[Any]]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

BOOTSTRAP_ROUNDS = 1000
BOOTSTRAP_SEED = 0
INTERVAL = (2.5, 97.5)
HEADLINE = ("balanced_accuracy", "macro_f1", "top1", "top3")


@dataclass(frozen=True)
class LabelledSet:
    """Pairs ``(names[i], targets[i])`` plus, per pair, every label its name carries in the set."""

    name: str
    names: tuple[str, ...]
    targets: IntArray
    any_labels: BoolArray  # [pairs, labels]: True where the pair's name also carries that label

    def __len__(self) -> int:
        return len(self.names)


def labelled_set(
    set_name: str, names: Sequence[str], targets: IntArray, num_labels: int
) -> LabelledSet:
    """Build the any-label table from the pairs themselves."""
    by_name: dict[str, set[int]] = {}
    for name, target in zip(names, targets.tolist(), strict=True):
        by_name.setdefault(name, set()).add(int(target))
    table = np.zeros((len(names), num_labels), dtype=bool)
    for row, name in enumerate(names):
        table[row, sorted(by_name[name])] = True
    return LabelledSet(set_name, tuple(names), targets.astype(np.int64), table)


def _confusion_counts(
    targets: IntArray, predicted: IntArray, num_labels: int, weights: FloatArray | None = None
) -> FloatArray:
    flat = targets * num_labels + predicted
    counts = np.bincount(flat, weights=weights, minlength=num_labels * num_labels)
    result: FloatArray = counts.reshape(num_labels, num_labels).astype(np.float64)
    return result


def _summary(matrix: FloatArray, present: IntArray) -> dict[str, float]:
    """Balanced accuracy and macro-F1 over the classes that occur in the targets."""
    true_positive = np.diag(matrix)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    recall = np.divide(true_positive, support, out=np.zeros_like(support), where=support > 0)
    precision = np.divide(
        true_positive, predicted, out=np.zeros_like(predicted), where=predicted > 0
    )
    present = present[support[present] > 0]  # a bootstrap draw may miss a small class
    denominator = precision + recall
    f1 = np.divide(
        2 * precision * recall, denominator, out=np.zeros_like(denominator), where=denominator > 0
    )
    return {
        "balanced_accuracy": float(recall[present].mean()),
        "macro_f1": float(f1[present].mean()),
    }


def _per_class(matrix: FloatArray, labels: Sequence[str]) -> dict[str, dict[str, float]]:
    true_positive = np.diag(matrix)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    result: dict[str, dict[str, float]] = {}
    for index, label in enumerate(labels):
        if support[index] == 0:
            continue
        recall = true_positive[index] / support[index]
        precision = true_positive[index] / predicted[index] if predicted[index] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result[label] = {
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "support": int(support[index]),
        }
    return result


def _interval(values: list[float]) -> list[float]:
    low, high = np.percentile(np.asarray(values), INTERVAL)
    return [float(low), float(high)]


def score(
    scores: FloatArray,
    evaluation: LabelledSet,
    labels: Sequence[str],
    *,
    any_label: bool = False,
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = BOOTSTRAP_SEED,
) -> dict[str, Any]:
    """Headline figures, per class and bootstrap 95 % intervals for ``scores`` [pairs, labels].

    ``scores`` may be log-probabilities or any monotone score; only rankings are used. With
    ``any_label`` a pair counts as right when the top answer is any label of its name (then the
    confusion matrix files it under that answer's own row).
    """
    num_labels = len(labels)
    targets = evaluation.targets
    order = np.argsort(-scores, axis=1, kind="stable")
    predicted = order[:, 0].astype(np.int64)
    top3 = order[:, :3]
    rows = np.arange(len(targets))
    if any_label:
        allowed = evaluation.any_labels
        top1_right = allowed[rows, predicted]
        top3_right = allowed[rows[:, None], top3].any(axis=1)
        effective = np.where(top1_right, predicted, targets)
    else:
        top1_right = predicted == targets
        top3_right = (top3 == targets[:, None]).any(axis=1)
        effective = targets
    present = np.flatnonzero(np.bincount(targets, minlength=num_labels) > 0)
    matrix = _confusion_counts(effective, predicted, num_labels)
    result: dict[str, Any] = {
        "examples": len(targets),
        "classes": len(present),
        **_summary(matrix, present),
        "top1": float(top1_right.mean()),
        "top3": float(top3_right.mean()),
    }
    generator = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {key: [] for key in HEADLINE}
    for _ in range(rounds):
        weights = np.bincount(
            generator.integers(0, len(targets), len(targets)), minlength=len(targets)
        ).astype(np.float64)
        resampled = _summary(_confusion_counts(effective, predicted, num_labels, weights), present)
        draws["balanced_accuracy"].append(resampled["balanced_accuracy"])
        draws["macro_f1"].append(resampled["macro_f1"])
        draws["top1"].append(float(np.average(top1_right, weights=weights)))
        draws["top3"].append(float(np.average(top3_right, weights=weights)))
    if rounds:
        result["interval95"] = {key: _interval(values) for key, values in draws.items()}
    result["per_class"] = _per_class(matrix, labels)
    return result
