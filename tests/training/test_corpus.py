"""The split protocol: by name, cross-source names unseen anywhere, nothing tested was trained."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.corpus import (
    CROSS_SOURCE_CAP,
    Corpus,
    Pairs,
    build_corpus,
    cap_per_label,
    split_names,
)
from training.data import load_names
from training.sources import SourceName

from .conftest import tiny_sources


def _corpus(data_dir: Path, seed: int = 0, extra: list[SourceName] | None = None) -> Corpus:
    dataset = load_names(data_dir)
    return build_corpus(dataset, tiny_sources() if extra is None else extra, seed=seed)


def test_no_name_is_both_trained_and_tested(tiny_data_dir: Path) -> None:
    corpus = _corpus(tiny_data_dir)
    trained = set(corpus.train.names) | set(corpus.validation.names)
    assert not trained & set(corpus.tutorial_test.names)
    assert not trained & set(corpus.cross_source_test.names)
    assert not set(corpus.train.names) & set(corpus.validation.names)


def test_cross_source_names_occur_nowhere_in_the_tutorial_data(tiny_data_dir: Path) -> None:
    dataset = load_names(tiny_data_dir)
    shared = SourceName(dataset.names[0], "Beta", "tiny:xx")  # a tutorial name, other label
    corpus = _corpus(tiny_data_dir, extra=[*tiny_sources(), shared])
    assert len(corpus.cross_source_test) > 0
    assert not set(corpus.cross_source_test.names) & set(dataset.names)


def test_extra_names_of_held_out_tutorial_names_never_train(tiny_data_dir: Path) -> None:
    dataset = load_names(tiny_data_dir)
    plain = _corpus(tiny_data_dir, extra=[])
    held = sorted(set(plain.tutorial_test.names))
    extra = [SourceName(name, "Alpha", "tiny:xx") for name in held]
    corpus = _corpus(tiny_data_dir, extra=[*tiny_sources(), *extra])
    assert set(corpus.tutorial_test.names) == set(held)
    assert not set(held) & (set(corpus.train.names) | set(corpus.validation.names))
    assert len(dataset.names) > 0


def test_split_is_seeded(tiny_data_dir: Path) -> None:
    first, again, other = (_corpus(tiny_data_dir, seed) for seed in (0, 0, 1))
    assert first.tutorial_test.names == again.tutorial_test.names
    assert first.cross_source_test.names == again.cross_source_test.names
    assert first.tutorial_test.names != other.tutorial_test.names


def test_a_name_with_two_labels_stays_on_one_side_with_both() -> None:
    pairs = Pairs.of([(f"n{i}", i % 2) for i in range(40)] + [("both", 0), ("both", 1)])
    counts = np.array([21, 21], dtype=np.int64)
    kept, held = split_names(pairs, 0.25, 0, counts)
    sides = [side for side in (kept, held) if "both" in side.names]
    assert len(sides) == 1
    assert sorted(t for n, t in zip(sides[0].names, sides[0].targets, strict=True) if n == "both")
    assert [
        int(t) for n, t in zip(sides[0].names, sides[0].targets, strict=True) if n == "both"
    ] == [0, 1]


def test_cross_source_cap_moves_the_overflow_back() -> None:
    pairs = Pairs.of([(f"big{i}", 0) for i in range(CROSS_SOURCE_CAP + 50)] + [("small", 1)])
    kept, moved = cap_per_label(pairs, 0)
    assert int((kept.targets == 0).sum()) == CROSS_SOURCE_CAP
    assert "small" in moved.names  # one name is too few to score a label on
    assert len(kept) + len(moved) == len(pairs)


def test_soft_targets_split_a_name_over_its_labels() -> None:
    names, targets = Pairs.of([("a", 0), ("a", 2), ("b", 1)]).soft_targets(3)
    assert names == ["a", "b"]
    assert targets.tolist() == [[0.5, 0.0, 0.5], [0.0, 1.0, 0.0]]
