"""Scores a model on held-out names: accuracy, macro-F1, per-class figures and calibration.

The same functions score the freshly exported candidate and re-score a committed artifact, so a
``metrics.json`` can always be reproduced from ``model.onnx`` and the data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

FloatArray = npt.NDArray[np.floating[Any]]
IntArray = npt.NDArray[np.int64]

CALIBRATION_BINS = 15


def fit_temperature(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """The temperature T minimizing the negative log-likelihood of ``softmax(logits / T)``.

    Fitted on validation names only; optimizing log T keeps T positive.
    """
    log_temperature = torch.zeros((), requires_grad=True)
    optimizer = torch.optim.LBFGS([log_temperature], lr=0.1, max_iter=200)
    logits = logits.detach()

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits / log_temperature.exp(), targets)
        loss.backward()  # type: ignore[no-untyped-call]
        return loss

    optimizer.step(closure)  # type: ignore[no-untyped-call]
    return float(log_temperature.detach().exp())


#: Candidate τ values when the prior adjustment is tuned on validation.
PRIOR_ADJUSTMENT_GRID = tuple(round(0.1 * step, 1) for step in range(11))


def tune_prior_adjustment(
    logits: torch.Tensor, targets: npt.NDArray[np.int64], log_prior: torch.Tensor
) -> float:
    """The τ of ``logits - τ·log_prior`` with the best validation macro-F1 (smallest on ties).

    Logit adjustment (Menon et al., 2021) trades a little accuracy for recall on small classes,
    where a model trained on imbalanced data is too reluctant; it is fitted on validation only.
    """
    best_tau, best_f1 = 0.0, -1.0
    for tau in PRIOR_ADJUSTMENT_GRID:
        predicted = (logits - tau * log_prior).argmax(dim=1).numpy()
        score = float(f1_score(targets, predicted, average="macro", zero_division=0))
        if score > best_f1:
            best_tau, best_f1 = tau, score
    return best_tau


def expected_calibration_error(
    probabilities: FloatArray, targets: IntArray, bins: int = CALIBRATION_BINS
) -> float:
    """Top-1 ECE: weighted mean |accuracy - confidence| over equal-width confidence bins."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == targets
    edges = np.linspace(0.0, 1.0, bins + 1)
    bin_of = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    error = 0.0
    for index in range(bins):
        inside = bin_of == index
        if inside.any():
            gap = abs(float(correct[inside].mean()) - float(confidence[inside].mean()))
            error += gap * float(inside.mean())
    return error


def softmax(scores: FloatArray) -> FloatArray:
    """Row-wise softmax in float64 (scores may be logits or log-probabilities)."""
    shifted = scores.astype(np.float64) - scores.max(axis=1, keepdims=True)
    exponentials = np.exp(shifted)
    result: FloatArray = exponentials / exponentials.sum(axis=1, keepdims=True)
    return result


def classification_metrics(
    log_probabilities: FloatArray,
    targets: IntArray,
    labels: tuple[str, ...] | list[str],
    temperature: float,
) -> dict[str, Any]:
    """Everything ``metrics.json`` reports, from the served (calibrated) log-probabilities.

    ``log_probabilities * temperature`` recovers the uncalibrated logits up to a per-row constant,
    which is how the ECE before temperature scaling is obtained from the same outputs.
    """
    label_indices = list(range(len(labels)))
    predicted = log_probabilities.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(
        targets, predicted, labels=label_indices, zero_division=0
    )
    return {
        "examples": len(targets),
        "accuracy": float(accuracy_score(targets, predicted)),
        "macro_f1": float(
            f1_score(targets, predicted, labels=label_indices, average="macro", zero_division=0)
        ),
        "ece_before_temperature": expected_calibration_error(
            softmax(log_probabilities * temperature), targets
        ),
        "ece": expected_calibration_error(softmax(log_probabilities), targets),
        "temperature": temperature,
        "per_class": {
            label: {
                "precision": float(precision[index]),
                "recall": float(recall[index]),
                "f1": float(f1[index]),
                "support": int(support[index]),
            }
            for index, label in enumerate(labels)
        },
    }


def confusion(
    log_probabilities: FloatArray, targets: IntArray, num_labels: int
) -> npt.NDArray[np.float64]:
    """Confusion matrix normalized by row (each true class sums to 1)."""
    counts = np.zeros((num_labels, num_labels), dtype=np.float64)
    np.add.at(counts, (targets, log_probabilities.argmax(axis=1)), 1.0)
    totals = counts.sum(axis=1, keepdims=True)
    result: npt.NDArray[np.float64] = np.divide(
        counts, totals, out=np.zeros_like(counts), where=totals > 0
    )
    return result
