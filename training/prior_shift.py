"""What the served prior costs on each test set: the artifact's answers moved toward a caller mix.

The service answers with a uniform prior over the 18 languages (``docs/training.md``, τ), because
callers send any language. The tutorial test split keeps the tutorial's own mix (about half of it
Russian), which rewards a model that still carries that prior. Adding ``w·log(tutorial share)`` to
the served log-probabilities and renormalizing is the Bayes-correct move from a uniform prior to the
tutorial's mix at ``w = 1``: what a deployment whose callers follow that mix could do. Scoring the
same artifact at several ``w`` shows, on data it never saw, what the choice of prior trades between
the two test sets, and whether any prior reaches the tutorial targets. The baselines trained in the
same run are moved the same way, so the table also says whether *any* model of the run reaches
those targets at *any* prior, or whether they are out of reach on this split.

The mix is estimated from the tutorial's validation names (never from a test set).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from training.corpus import Corpus, Pairs
from training.evaluate import expected_calibration_error
from training.evaluation import MODEL
from training.metrics import FloatArray, LabelledSet, score

#: Weights of the tutorial mix's log-prior added to the served log-probabilities (0: as served).
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
FIGURES = ("balanced_accuracy", "macro_f1", "top1", "top3")
#: Each set is scored the way its headline is: the tutorial any-label, the cross-source strict.
SETS = {"tutorial_test": True, "cross_source": False}


def mix_log_prior(pairs: Pairs, num_labels: int) -> FloatArray:
    """log of each label's share of ``pairs`` (add-one smoothed: no label is impossible)."""
    counts = np.bincount(pairs.targets, minlength=num_labels).astype(np.float64) + 1.0
    result: FloatArray = np.log(counts / counts.sum())
    return result


def shifted(log_probabilities: FloatArray, log_prior: FloatArray, weight: float) -> FloatArray:
    """``log_probabilities + weight·log_prior``, renormalized to log-probabilities per row."""
    moved = torch.from_numpy(log_probabilities.astype(np.float64) + weight * log_prior)
    result: FloatArray = torch.log_softmax(moved, dim=1).numpy()
    return result


def _figures(
    values: FloatArray, evaluation: LabelledSet, corpus: Corpus, any_label: bool
) -> dict[str, float]:
    figures = score(values, evaluation, corpus.labels, any_label=any_label, rounds=0)
    row = {key: float(figures[key]) for key in FIGURES}
    row["ece"] = expected_calibration_error(np.exp(values), evaluation.targets)
    return row


def _rows(
    corpus: Corpus, by_set: Mapping[str, FloatArray], log_prior: FloatArray
) -> list[dict[str, Any]]:
    sets = {"tutorial_test": corpus.tutorial_test, "cross_source": corpus.cross_source_test}
    rows = []
    for weight in WEIGHTS:
        row: dict[str, Any] = {"weight": weight}
        for name, values in by_set.items():
            moved = shifted(values, log_prior, weight)
            row[name] = _figures(moved, sets[name], corpus, SETS[name])
        rows.append(row)
    return rows


def prior_shift(corpus: Corpus, answers: Mapping[str, Mapping[str, FloatArray]]) -> dict[str, Any]:
    """Each test set's figures with each model's answers moved toward the tutorial's mix.

    ``answers``: per test set (``tutorial_test``, and ``cross_source`` when the corpus has one),
    per model (the served artifact under :data:`MODEL`, the baselines under their names), the
    log-probabilities in the order of the set's names. ``rows`` are the served model's,
    ``baselines`` the others', weight by weight.
    """
    mix_source = corpus.validation_sources.get("tutorial", corpus.validation)
    log_prior = mix_log_prior(mix_source, len(corpus.labels))
    models = list(dict.fromkeys(model for by_model in answers.values() for model in by_model))
    rows = {
        model: _rows(
            corpus,
            {name: by_model[model] for name, by_model in answers.items() if model in by_model},
            log_prior,
        )
        for model in models
    }
    return {
        "mix": "label shares of the tutorial's validation names",
        "modes": {name: "any_label" if any_label else "strict" for name, any_label in SETS.items()},
        "rows": rows.pop(MODEL),
        "baselines": rows,
    }
