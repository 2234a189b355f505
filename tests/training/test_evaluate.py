"""Scoring: temperature fitting, ECE, the metrics.json block and the confusion matrix."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from training.evaluate import (
    classification_metrics,
    confusion,
    expected_calibration_error,
    fit_temperature,
    tune_prior_adjustment,
)


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


def test_metrics_block_has_per_class_figures_and_both_eces() -> None:
    log_probabilities = np.log(np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]))
    metrics = classification_metrics(log_probabilities, np.array([0, 1, 1]), ("A", "B"), 2.0)
    assert metrics["accuracy"] == pytest.approx(2 / 3)
    assert metrics["per_class"]["B"] == {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}
    assert metrics["macro_f1"] == pytest.approx(2 / 3)  # A: P 0.5 R 1; B: P 1 R 0.5
    assert metrics["temperature"] == 2.0
    assert metrics["ece_before_temperature"] != metrics["ece"]


def test_confusion_rows_are_normalized() -> None:
    log_probabilities = np.log(np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]]))
    matrix = confusion(log_probabilities, np.array([0, 0, 0, 1]), 3)
    assert matrix[0].tolist() == pytest.approx([2 / 3, 1 / 3, 0])
    assert matrix[1].tolist() == [0, 1, 0]
    assert matrix[2].tolist() == [0, 0, 0]


def test_prior_adjustment_is_tuned_for_macro_f1_on_validation() -> None:
    # A majority-biased model: every minority example scores 0.5 below the majority class.
    targets = np.array([0] * 90 + [1] * 10)
    logits = torch.zeros(100, 2)
    logits[:, 0] = 1.0
    logits[90:, 0] = 0.5
    log_prior = torch.log(torch.tensor([0.9, 0.1]))
    tau = tune_prior_adjustment(logits, targets, log_prior)
    adjusted = (logits - tau * log_prior).argmax(dim=1).numpy()
    assert (adjusted == targets).all()
    assert tau == 0.3  # the smallest grid value that separates the two groups


def test_prior_adjustment_stays_zero_when_it_cannot_help() -> None:
    targets = np.array([0, 0, 1])
    logits = torch.tensor([[2.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
    assert tune_prior_adjustment(logits, targets, torch.log(torch.tensor([0.6, 0.4]))) == 0.0
