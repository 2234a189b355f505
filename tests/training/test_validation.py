"""The validation objective: each source counts once whatever its size; the figures it averages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.corpus import Pairs, build_corpus
from training.data import load_names
from training.metrics import labelled_set, score
from training.validation import parse_figures, source_balanced_objective

from .conftest import tiny_sources

LABELS = ("A", "B")


def _pairs(prefix: str, targets: list[int]) -> Pairs:
    return Pairs(tuple(f"{prefix}{i}" for i in range(len(targets))), np.asarray(targets))


def _one_hot(predicted: list[int]) -> np.ndarray:
    return np.eye(2)[predicted]


def test_a_small_source_weighs_as_much_as_a_big_one() -> None:
    big, small = _pairs("big", [0, 1] * 50), _pairs("small", [0, 1])
    validation = big + small
    objective = source_balanced_objective(
        validation, {"big": big, "small": small}, LABELS, "balanced_accuracy"
    )
    # Right on every big-source name, wrong on both small-source names.
    logits = _one_hot([*big.targets.tolist(), 1, 0])
    assert objective.per_source(logits) == {"big": 1.0, "small": 0.0}
    assert objective(logits) == pytest.approx(0.5)
    pooled = source_balanced_objective(validation, {}, LABELS, "balanced_accuracy")
    assert pooled(logits) == pytest.approx(100 / 102, abs=0.01)


def test_row_weights_give_each_source_the_same_total() -> None:
    big, small = _pairs("big", [0, 1] * 5), _pairs("small", [1])
    validation = big + small
    weights = source_balanced_objective(validation, {"big": big, "small": small}, LABELS)
    row_weights = weights.row_weights(len(validation))
    assert row_weights[:10].sum() == pytest.approx(1.0)
    assert row_weights[10] == pytest.approx(1.0)


def test_an_empty_source_is_left_out() -> None:
    big = _pairs("big", [0, 1])
    objective = source_balanced_objective(big, {"big": big, "none": Pairs.of([])}, LABELS)
    assert [part.name for _, part in objective.parts] == ["big"]


def test_the_corpus_names_its_validation_sources(tiny_data_dir: Path) -> None:
    corpus = build_corpus(load_names(tiny_data_dir), tiny_sources())
    sources = corpus.validation_sources
    assert set(sources) == {"tutorial", "extra"}
    assert len(sources["tutorial"]) > 0 and len(sources["extra"]) > 0
    joined = sources["tutorial"] + sources["extra"]
    assert joined.names == corpus.validation.names
    assert joined.targets.tolist() == corpus.validation.targets.tolist()
    assert not sources["tutorial"].distinct_names() & sources["extra"].distinct_names()


def test_by_default_every_reported_figure_counts_the_same() -> None:
    labels = ("A", "B", "C", "D")
    validation = _pairs("v", [0, 1, 2, 3, 0, 1, 2, 3, 0, 0])
    logits = np.random.default_rng(3).normal(size=(len(validation), len(labels)))
    figures = score(
        logits,
        labelled_set("v", validation.names, validation.targets, 4),
        labels,
        any_label=True,
        rounds=0,
    )
    reported = ("balanced_accuracy", "macro_f1", "top1", "top3")
    expected = np.mean([figures[name] for name in reported])
    assert len({figures["balanced_accuracy"], figures["top3"]}) == 2  # the mean is not one figure
    objective = source_balanced_objective(validation, {}, labels)
    assert objective(logits) == pytest.approx(expected)
    only_top3 = source_balanced_objective(validation, {}, labels, "top3")
    assert only_top3(logits) == pytest.approx(figures["top3"])


@pytest.mark.parametrize("figures", ["", "accuracy", "top1,top5"])
def test_unknown_figures_are_refused(figures: str) -> None:
    with pytest.raises(ValueError, match="selection figures"):
        parse_figures(figures)
