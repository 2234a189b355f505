"""The served prior moved toward a caller mix: renormalized, neutral at 0, and it moves answers."""

from __future__ import annotations

import numpy as np
import pytest

from training.corpus import Corpus, Pairs
from training.evaluation import MODEL
from training.metrics import labelled_set, score
from training.prior_shift import WEIGHTS, mix_log_prior, prior_shift, shifted

LABELS = ("Alpha", "Beta")


def test_the_mix_is_the_smoothed_label_share() -> None:
    pairs = Pairs(("a", "b", "c", "d"), np.array([0, 0, 0, 1]))
    assert np.exp(mix_log_prior(pairs, 3)).tolist() == pytest.approx([4 / 7, 2 / 7, 1 / 7])


def test_shifted_rows_are_log_probabilities_and_weight_zero_changes_nothing() -> None:
    served = np.log(np.array([[0.6, 0.4], [0.3, 0.7]]))
    prior = np.log(np.array([0.9, 0.1]))
    assert shifted(served, prior, 0.0) == pytest.approx(served)
    moved = shifted(served, prior, 1.0)
    assert np.exp(moved).sum(axis=1) == pytest.approx([1.0, 1.0])
    # w = 1 is Bayes' rule from a uniform prior to the mix: p(y|x) ∝ p_uniform(y|x)·π(y)
    expected = np.array([0.6 * 0.9, 0.4 * 0.1]) / (0.6 * 0.9 + 0.4 * 0.1)
    assert np.exp(moved[0]) == pytest.approx(expected)


def _corpus(test_targets: list[int], validation_targets: list[int]) -> Corpus:
    test_names = [f"t{i}" for i in range(len(test_targets))]
    validation = Pairs(
        tuple(f"v{i}" for i in range(len(validation_targets))), np.array(validation_targets)
    )
    return Corpus(
        labels=LABELS,
        train=Pairs((), np.array([], dtype=np.int64)),
        validation=validation,
        tutorial_test=labelled_set("tutorial_test", test_names, np.array(test_targets), 2),
        cross_source_test=labelled_set("cross_source", [], np.array([], dtype=np.int64), 2),
        validation_sources={"tutorial": validation},
    )


def test_moving_toward_a_skewed_mix_trades_balanced_accuracy_for_top1() -> None:
    # Nine of ten test names are Alpha, and so are nine of ten validation names; the served
    # answers lean slightly to Beta on the ambiguous names.
    corpus = _corpus([0] * 9 + [1], [0] * 9 + [1])
    served = np.log(np.array([[0.45, 0.55]] * 5 + [[0.8, 0.2]] * 4 + [[0.3, 0.7]]))

    report = prior_shift(corpus, {"tutorial_test": {MODEL: served}})

    rows = report["rows"]
    assert [row["weight"] for row in rows] == list(WEIGHTS)
    assert "cross_source" not in rows[0]  # an empty set is not scored
    as_served = score(served, corpus.tutorial_test, LABELS, any_label=True, rounds=0)
    assert rows[0]["tutorial_test"]["top1"] == pytest.approx(as_served["top1"]) == 0.5
    at_one = next(row for row in rows if row["weight"] == 1.0)["tutorial_test"]
    assert at_one["top1"] == 0.9  # every answer is now Alpha: the ambiguous ones are right ...
    assert at_one["balanced_accuracy"] == 0.5  # ... and the one Beta is lost (was 0.72 served)
    assert rows[0]["tutorial_test"]["balanced_accuracy"] == pytest.approx(13 / 18)
    assert 0.0 <= at_one["ece"] <= 1.0
    assert report["modes"] == {"tutorial_test": "any_label", "cross_source": "strict"}


def test_baselines_are_moved_alike_and_kept_apart_from_the_served_rows() -> None:
    corpus = _corpus([0] * 9 + [1], [0] * 9 + [1])
    served = np.log(np.array([[0.45, 0.55]] * 5 + [[0.8, 0.2]] * 4 + [[0.3, 0.7]]))
    confident = np.log(np.array([[0.9, 0.1]] * 9 + [[0.2, 0.8]]))

    report = prior_shift(corpus, {"tutorial_test": {MODEL: served, "naive_bayes": confident}})

    assert list(report["baselines"]) == ["naive_bayes"]
    baseline_rows = report["baselines"]["naive_bayes"]
    assert [row["weight"] for row in baseline_rows] == list(WEIGHTS)
    # Already right on every name as given; the served model's rows are not the baseline's.
    assert baseline_rows[0]["tutorial_test"]["top1"] == 1.0
    assert report["rows"][0]["tutorial_test"]["top1"] == 0.5
    # A strong enough push toward Alpha finally costs the baseline its one Beta.
    assert baseline_rows[-1]["tutorial_test"]["balanced_accuracy"] == 0.5
