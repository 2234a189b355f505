"""Post-hoc fits and calibration: temperature, prior adjustment, ECE, the confusion matrix."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from training.corpus import Pairs
from training.evaluate import (
    calibration_metrics,
    confusion,
    expected_calibration_error,
    fit_temperature,
    tune_prior_adjustment,
)
from training.validation import source_balanced_objective


def validation_pairs(targets: np.ndarray) -> Pairs:
    """One validation pair per target, each under its own name."""
    return Pairs(tuple(f"n{i}" for i in range(len(targets))), targets.astype(np.int64))


def test_temperature_recovers_the_overconfidence_factor() -> None:
    generator = torch.Generator().manual_seed(0)
    true_logits = torch.randn(4000, 5, generator=generator) * 2
    targets = torch.distributions.Categorical(logits=true_logits).sample()
    fitted = fit_temperature(true_logits * 3.0, targets)
    assert fitted == pytest.approx(3.0, rel=0.1)


def test_ece_is_zero_when_confidence_equals_accuracy() -> None:
    probabilities = np.array([[0.75, 0.25]] * 4)
    assert expected_calibration_error(probabilities, np.array([0, 0, 0, 1])) == pytest.approx(0)


def test_ece_measures_overconfidence() -> None:
    probabilities = np.array([[0.95, 0.05]] * 10)
    targets = np.array([0] * 5 + [1] * 5)
    assert expected_calibration_error(probabilities, targets) == pytest.approx(0.45)


def test_calibration_block_has_both_eces() -> None:
    log_probabilities = np.log(np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]))
    metrics = calibration_metrics(log_probabilities, np.array([0, 1, 1]), 2.0)
    assert metrics["temperature"] == 2.0
    assert metrics["ece_before_temperature"] != metrics["ece"]
    assert 0.0 <= metrics["ece"] <= 1.0


def test_confusion_rows_are_normalized() -> None:
    log_probabilities = np.log(np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]]))
    matrix = confusion(log_probabilities, np.array([0, 0, 0, 1]), 3)
    assert matrix[0].tolist() == pytest.approx([2 / 3, 1 / 3, 0])
    assert matrix[1].tolist() == [0, 1, 0]
    assert matrix[2].tolist() == [0, 0, 0]


def test_prior_adjustment_is_tuned_for_balanced_accuracy_on_validation() -> None:
    # A majority-biased model: every minority example scores 0.5 below the majority class.
    targets = np.array([0] * 90 + [1] * 10)
    logits = torch.zeros(100, 2)
    logits[:, 0] = 1.0
    logits[90:, 0] = 0.5
    log_prior = torch.log(torch.tensor([0.9, 0.1]))
    objective = source_balanced_objective(validation_pairs(targets), {}, ("A", "B"))
    tau = tune_prior_adjustment(logits, objective, log_prior)
    adjusted = (logits - tau * log_prior).argmax(dim=1).numpy()
    assert (adjusted == targets).all()
    assert tau == 0.3  # the smallest grid value that separates the two groups


def test_prior_adjustment_stays_zero_when_it_cannot_help() -> None:
    targets = np.array([0, 0, 1])
    logits = torch.tensor([[2.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
    objective = source_balanced_objective(validation_pairs(targets), {}, ("A", "B"))
    log_prior = torch.log(torch.tensor([0.6, 0.4]))
    assert tune_prior_adjustment(logits, objective, log_prior) == 0.0


def test_temperature_follows_the_row_weights() -> None:
    # Half the rows want sharper answers, half softer: the weights decide which half counts.
    generator = torch.Generator().manual_seed(1)
    true_logits = torch.randn(2000, 4, generator=generator) * 2
    targets = torch.distributions.Categorical(logits=true_logits).sample()
    logits = torch.cat([true_logits[:1000] * 3.0, true_logits[1000:] * 0.5])
    first_half = torch.cat([torch.ones(1000), torch.zeros(1000)])
    assert fit_temperature(logits, targets, first_half) == pytest.approx(3.0, rel=0.15)
    assert fit_temperature(logits, targets, 1.0 - first_half) == pytest.approx(0.5, rel=0.15)
