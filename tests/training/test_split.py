"""The split protocol: stratified, disjoint, deterministic, test carved before validation."""

from __future__ import annotations

import numpy as np
import pytest

from training.split import split_dataset


@pytest.fixture
def targets() -> np.ndarray:
    """Imbalanced classes like the real data: 500, 120, 40 and 20 examples."""
    return np.repeat(np.arange(4), [500, 120, 40, 20]).astype(np.int64)


def test_parts_are_disjoint_and_cover_everything(targets: np.ndarray) -> None:
    split = split_dataset(targets)
    parts = [split.train, split.validation, split.test]
    assert sum(len(part) for part in parts) == len(targets)
    assert len(np.unique(np.concatenate(parts))) == len(targets)


def test_every_class_gets_ten_percent_in_test(targets: np.ndarray) -> None:
    split = split_dataset(targets)
    test_counts = np.bincount(targets[split.test], minlength=4)
    assert test_counts.tolist() == [50, 12, 4, 2]
    validation_counts = np.bincount(targets[split.validation], minlength=4)
    assert (validation_counts >= 1).all()
    assert abs(validation_counts[0] - 45) <= 1


def test_same_seed_same_split_other_seed_other_split(targets: np.ndarray) -> None:
    first, again, other = (
        split_dataset(targets),
        split_dataset(targets),
        split_dataset(targets, seed=1),
    )
    assert np.array_equal(first.test, again.test)
    assert np.array_equal(first.validation, again.validation)
    assert not np.array_equal(first.test, other.test)


def test_test_split_does_not_depend_on_the_validation_fraction(targets: np.ndarray) -> None:
    assert np.array_equal(
        split_dataset(targets, validation_fraction=0.1).test,
        split_dataset(targets, validation_fraction=0.2).test,
    )
