"""The evaluation protocol: which names train, which validate, which test — all split by name.

* **Tutorial split, name-aware:** distinct folded names (not pairs) are split, stratified by
  each name's rarest label, so one surname never sits in both train and test.
* **Cross-source set:** names from the extra sources (:mod:`training.sources`) that occur
  *nowhere* in the tutorial data, under any label; a seeded, label-stratified part of them is held
  out before training and never trained on.
* **Extra training names:** the rest of the extra sources, minus any name of the tutorial's
  validation or test split, so nothing a test scores has been trained on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.model_selection import train_test_split

from nameorigin.core.normalization import DEFAULT_RULE, NormalizationRule
from training.data import NamesDataset
from training.metrics import LabelledSet, labelled_set
from training.sources import SourceName

IntArray = npt.NDArray[np.int64]

SPLIT_SEED = 0
TEST_FRACTION = 0.1
VALIDATION_FRACTION = 0.1
CROSS_SOURCE_FRACTION = 0.25
#: Per-label cap of the cross-source set, so top-1 is not one big list's score; the rest trains.
CROSS_SOURCE_CAP = 400
#: A label with fewer held-out names than this is left out of the cross-source set (it trains).
CROSS_SOURCE_MIN = 10


@dataclass(frozen=True)
class Pairs:
    """(name, label index) pairs; a name may carry several labels."""

    names: tuple[str, ...]
    targets: IntArray

    def __len__(self) -> int:
        return len(self.names)

    @staticmethod
    def of(pairs: Iterable[tuple[str, int]]) -> Pairs:
        """Pairs from an iterable, de-duplicated, in first-seen order."""
        unique = list(dict.fromkeys(pairs))
        return Pairs(
            tuple(n for n, _ in unique), np.asarray([t for _, t in unique], dtype=np.int64)
        )

    def __add__(self, other: Pairs) -> Pairs:
        return Pairs.of(
            [
                *zip(self.names, self.targets.tolist(), strict=True),
                *zip(other.names, other.targets.tolist(), strict=True),
            ]
        )

    def distinct_names(self) -> set[str]:
        """The set of names (a name with several labels once)."""
        return set(self.names)

    def soft_targets(self, num_labels: int) -> tuple[list[str], npt.NDArray[np.float32]]:
        """Distinct names (sorted) and, per name, its probability mass split over its labels."""
        grouped = _by_name(self)
        names = sorted(grouped)
        targets = np.zeros((len(names), num_labels), dtype=np.float32)
        for row, name in enumerate(names):
            labels = sorted(set(grouped[name]))
            targets[row, labels] = 1.0 / len(labels)
        return names, targets


@dataclass(frozen=True)
class Corpus:
    """Everything training and evaluation read, split once, by name."""

    labels: tuple[str, ...]
    train: Pairs
    validation: Pairs
    tutorial_test: LabelledSet
    cross_source_test: LabelledSet
    info: dict[str, Any] = field(default_factory=dict)
    #: ``validation`` by source ({"tutorial": ..., "extra": ...}); each counts once in tuning.
    validation_sources: dict[str, Pairs] = field(default_factory=dict)


def _by_name(pairs: Pairs) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = {}
    for name, target in zip(pairs.names, pairs.targets.tolist(), strict=True):
        grouped.setdefault(name, []).append(int(target))
    return grouped


def split_names(
    pairs: Pairs, fraction: float, seed: int, class_counts: npt.NDArray[np.int64]
) -> tuple[Pairs, Pairs]:
    """Split distinct names (stratified by each name's rarest label); pairs follow their name."""
    grouped = _by_name(pairs)
    names = sorted(grouped)
    if len(names) < 2:
        return pairs, Pairs.of([])
    strata = np.asarray([min(grouped[n], key=lambda t: (class_counts[t], t)) for n in names])
    # Labels with a single name cannot be stratified; they stay in the larger part.
    counts = np.bincount(strata, minlength=len(class_counts))
    stratifiable = counts[strata] >= 2
    _, held_names = train_test_split(
        [n for n, ok in zip(names, stratifiable, strict=True) if ok],
        test_size=fraction,
        stratify=strata[stratifiable],
        random_state=seed,
    )
    held = set(held_names)
    keep = [(n, t) for n in names if n not in held for t in grouped[n]]
    hold = [(n, t) for n in sorted(held) for t in grouped[n]]
    return Pairs.of(keep), Pairs.of(hold)


def cap_per_label(pairs: Pairs, seed: int) -> tuple[Pairs, Pairs]:
    """Keep at most ``CROSS_SOURCE_CAP`` names a label (seeded), none of a label under the minimum.

    Names are capped whole: a name with several labels is kept or moved with all of them.
    """
    grouped = _by_name(pairs)
    generator = np.random.default_rng(seed)
    names = sorted(grouped)
    order = [names[i] for i in generator.permutation(len(names))]
    taken: dict[int, int] = {}
    kept: set[str] = set()
    for name in order:
        first = min(grouped[name])
        if taken.get(first, 0) < CROSS_SOURCE_CAP:
            taken[first] = taken.get(first, 0) + 1
            kept.add(name)
    kept = {n for n in kept if taken[min(grouped[n])] >= CROSS_SOURCE_MIN}
    keep = [(n, t) for n in names if n in kept for t in grouped[n]]
    moved = [(n, t) for n in names if n not in kept for t in grouped[n]]
    return Pairs.of(keep), Pairs.of(moved)


def normalized_source_pairs(
    extra: Sequence[SourceName], labels: Sequence[str], rule: NormalizationRule = DEFAULT_RULE
) -> Pairs:
    """Extra names folded by the serving rule, dropped if no letter remains, de-duplicated."""
    index = {label: i for i, label in enumerate(labels)}
    folded = ((rule.normalize(n.name), index[n.label]) for n in extra)
    return Pairs.of((name, target) for name, target in folded if rule.has_letters(name))


def build_corpus(
    dataset: NamesDataset,
    extra: Sequence[SourceName],
    *,
    seed: int = SPLIT_SEED,
    rule: NormalizationRule = DEFAULT_RULE,
) -> Corpus:
    """Split the tutorial data and the extra sources by name (see the module docstring)."""
    labels = dataset.labels
    tutorial = Pairs(dataset.names, dataset.targets)
    counts = np.bincount(dataset.targets, minlength=len(labels)).astype(np.int64)
    tutorial_rest, tutorial_test = split_names(tutorial, TEST_FRACTION, seed, counts)
    tutorial_train, tutorial_validation = split_names(
        tutorial_rest, VALIDATION_FRACTION, seed, counts
    )

    sourced = normalized_source_pairs(extra, labels, rule)
    tutorial_names = tutorial.distinct_names()
    held_tutorial = tutorial_validation.distinct_names() | tutorial_test.distinct_names()
    unseen = Pairs.of(
        (n, t)
        for n, t in zip(sourced.names, sourced.targets.tolist(), strict=True)
        if n not in tutorial_names
    )
    shared = Pairs.of(
        (n, t)
        for n, t in zip(sourced.names, sourced.targets.tolist(), strict=True)
        if n in tutorial_names and n not in held_tutorial
    )
    source_counts = np.maximum(np.bincount(unseen.targets, minlength=len(labels)), 1).astype(
        np.int64
    )
    unseen_rest, cross_source = split_names(unseen, CROSS_SOURCE_FRACTION, seed, source_counts)
    cross_source, overflow = cap_per_label(cross_source, seed)
    unseen_rest = unseen_rest + overflow
    extra_train, extra_validation = split_names(
        unseen_rest, VALIDATION_FRACTION, seed, source_counts
    )

    train = tutorial_train + shared + extra_train
    validation = tutorial_validation + extra_validation
    info = {
        "seed": seed,
        "test_fraction": TEST_FRACTION,
        "validation_fraction": VALIDATION_FRACTION,
        "cross_source_fraction": CROSS_SOURCE_FRACTION,
        "split_by": "folded name",
        "tutorial": {
            "train": len(tutorial_train),
            "validation": len(tutorial_validation),
            "test": len(tutorial_test),
        },
        "extra": {
            "pairs": len(sourced),
            "also_in_tutorial_train": len(shared),
            "dropped_tutorial_held_out": len(sourced) - len(unseen) - len(shared),
            "train": len(extra_train),
            "validation": len(extra_validation),
            "cross_source_test": len(cross_source),
        },
        "train": len(train),
        "validation": len(validation),
    }
    return Corpus(
        labels=labels,
        train=train,
        validation=validation,
        tutorial_test=labelled_set(
            "tutorial_test", tutorial_test.names, tutorial_test.targets, len(labels)
        ),
        cross_source_test=labelled_set(
            "cross_source", cross_source.names, cross_source.targets, len(labels)
        ),
        info=info,
        validation_sources={"tutorial": tutorial_validation, "extra": extra_validation},
    )
