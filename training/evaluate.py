"""Post-hoc fits on validation (temperature, prior adjustment) and calibration figures.

Headline scores (balanced accuracy, macro-F1, top-k with intervals) live in
:mod:`training.metrics`; this module only fits and measures calibration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

FloatArray = npt.NDArray[np.floating[Any]]
IntArray = npt.NDArray[np.int64]

CALIBRATION_BINS = 15


def fit_temperature(
    logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None = None
) -> float:
    """The temperature T minimizing the (row-weighted) negative log-likelihood of softmax(logits/T).

    Fitted on validation names only; optimizing log T keeps T positive. ``weights`` lets each
    validation source count once, as the other validation-time choices do.
    """
    if weights is None:
        weights = torch.ones(len(targets))
    weights = weights.float() / weights.sum()
    log_temperature = torch.zeros((), requires_grad=True)
    optimizer = torch.optim.LBFGS([log_temperature], lr=0.1, max_iter=200)
    logits = logits.detach()

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        per_row = torch.nn.functional.cross_entropy(
            logits / log_temperature.exp(), targets, reduction="none"
        )
        loss = (per_row * weights).sum()
        loss.backward()  # type: ignore[no-untyped-call]
        return loss

    optimizer.step(closure)  # type: ignore[no-untyped-call]
    return float(log_temperature.detach().exp())


#: Candidate τ values when the prior adjustment is tuned on validation.
PRIOR_ADJUSTMENT_GRID = tuple(round(0.1 * step, 1) for step in range(11))


def tune_prior_adjustment(
    logits: torch.Tensor, objective: Callable[[FloatArray], float], log_prior: torch.Tensor
) -> float:
    """The τ of ``logits - τ·log_prior`` with the best validation objective.

    Logit adjustment (Menon et al., 2021) moves the served prior towards uniform: callers send
    any language, not the tutorial's mix, so the prior is chosen by the validation objective
    (``training.validation``; ties: the smallest τ); it is fitted on validation only.
    """
    best_tau, best_score = 0.0, -1.0
    for tau in PRIOR_ADJUSTMENT_GRID:
        adjusted = (logits - tau * log_prior).numpy()
        value = objective(adjusted)
        if value > best_score + 1e-12:
            best_tau, best_score = tau, float(value)
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


def calibration_metrics(
    log_probabilities: FloatArray, targets: IntArray, temperature: float
) -> dict[str, float]:
    """Top-1 ECE of the served probabilities, and before temperature scaling.

    ``log_probabilities * temperature`` recovers the uncalibrated logits up to a per-row constant,
    which is how the ECE before temperature scaling is obtained from the same outputs.
    """
    return {
        "ece": expected_calibration_error(softmax(log_probabilities), targets),
        "ece_before_temperature": expected_calibration_error(
            softmax(log_probabilities * temperature), targets
        ),
        "temperature": temperature,
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
