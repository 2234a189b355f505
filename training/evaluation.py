"""The evaluation suite: every model of one run scored on every held-out set, the same way.

``make train`` scores the candidate beside the baselines it must beat and the public peer;
``make evaluate`` scores the committed artifact the same way. Each model is a function from
normalized names to scores ``[names, labels]``; the sets come from one :class:`Corpus`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from training.baselines import (
    Ethnicseer,
    log_scores,
    logistic_regression,
    naive_bayes,
    our_codes,
    shared_class_score,
)
from training.corpus import Corpus
from training.metrics import BOOTSTRAP_ROUNDS, FloatArray, LabelledSet, score

Scorer = Callable[[list[str]], FloatArray]
MODES = {"strict": False, "any_label": True}
MODEL = "model"
PEER = "ethnicseer"


@dataclass(frozen=True)
class Contender:
    """A model to score, and what it took to train it (seconds)."""

    scorer: Scorer
    fit_seconds: float = 0.0


def train_baselines(corpus: Corpus) -> dict[str, Contender]:
    """Naive Bayes and logistic regression on exactly the model's training names."""
    contenders: dict[str, Contender] = {}
    num_labels = len(corpus.labels)
    for name, fit in (("naive_bayes", naive_bayes), ("logistic_regression", logistic_regression)):
        started = time.monotonic()
        fitted = fit(corpus.train.names, corpus.train.targets)
        contenders[name] = Contender(partial(_baseline_scores, fitted, num_labels=num_labels))
        contenders[name] = Contender(contenders[name].scorer, time.monotonic() - started)
    return contenders


def _baseline_scores(fitted: Pipeline, names: list[str], num_labels: int) -> FloatArray:
    return log_scores(fitted, names, num_labels)


def _peer_codes(peer: Ethnicseer, evaluation: LabelledSet) -> list[str]:
    # ethnicseer was trained on capitalized names; give it the name as a person writes it.
    return peer.classify([name.title() for name in evaluation.names])


def score_sets(
    corpus: Corpus, contenders: Mapping[str, Contender]
) -> dict[str, dict[str, FloatArray]]:
    """``{set: {model: scores}}`` on every non-empty test set, each model run once per set."""
    return {
        evaluation.name: {
            name: contender.scorer(list(evaluation.names)) for name, contender in contenders.items()
        }
        for evaluation in (corpus.tutorial_test, corpus.cross_source_test)
        if len(evaluation)  # a data set without extra sources has no cross-source names
    }


def evaluate(
    corpus: Corpus,
    contenders: Mapping[str, Contender],
    peer: Ethnicseer | None,
    *,
    rounds: int = BOOTSTRAP_ROUNDS,
    answers: Mapping[str, Mapping[str, FloatArray]] | None = None,
) -> dict[str, Any]:
    """``{set: {"scores": {mode: {model: figures}}, "peer": {model: shared-class figures}}}``.

    ``answers`` (from :func:`score_sets`) spares re-running the models when the caller already has
    their scores.
    """
    report: dict[str, Any] = {}
    answers = answers if answers is not None else score_sets(corpus, contenders)
    for evaluation in (corpus.tutorial_test, corpus.cross_source_test):
        if evaluation.name not in answers:
            continue
        names = list(evaluation.names)
        scores = answers[evaluation.name]
        by_mode = {
            mode: {
                name: score(values, evaluation, corpus.labels, any_label=any_label, rounds=rounds)
                for name, values in scores.items()
            }
            for mode, any_label in MODES.items()
        }
        shared = {
            name: shared_class_score(
                our_codes(values, corpus.labels), evaluation.targets, corpus.labels, rounds=rounds
            )
            for name, values in scores.items()
        }
        if peer is not None:
            shared[PEER] = shared_class_score(
                _peer_codes(peer, evaluation), evaluation.targets, corpus.labels, rounds=rounds
            )
        report[evaluation.name] = {
            "examples": len(evaluation),
            "distinct_names": len(set(names)),
            "per_label": dict(
                zip(
                    corpus.labels,
                    np.bincount(evaluation.targets, minlength=len(corpus.labels)).tolist(),
                    strict=True,
                )
            ),
            "scores": by_mode,
            "shared_with_ethnicseer": shared,
        }
    return report


def headline(report: Mapping[str, Any], model: str = MODEL) -> dict[str, float]:
    """The flat figures the manifest (and ``GET /model``) carry, from an :func:`evaluate` report."""
    figures: dict[str, float] = {}
    for set_name, mode, key in (
        ("cross_source", "strict", "balanced_accuracy"),
        ("cross_source", "strict", "macro_f1"),
        ("cross_source", "strict", "top1"),
        ("cross_source", "strict", "top3"),
        ("tutorial_test", "any_label", "top1"),
        ("tutorial_test", "any_label", "balanced_accuracy"),
        ("tutorial_test", "any_label", "macro_f1"),
        ("tutorial_test", "strict", "top1"),
        ("tutorial_test", "strict", "macro_f1"),
    ):
        figures[f"{set_name}_{mode}_{key}"] = report[set_name]["scores"][mode][model][key]
    for set_name in ("cross_source", "tutorial_test"):
        shared = report[set_name]["shared_with_ethnicseer"][model]
        if shared["examples"]:  # a label set without any of ethnicseer's classes has none
            figures[f"{set_name}_shared_with_ethnicseer_accuracy"] = shared["accuracy"]
    return figures
