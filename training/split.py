"""The split protocol every reported number is measured on.

Exact (name, label) duplicates are already gone (see :mod:`training.data`); 10% of each class goes
to the test split with a fixed seed, and validation (early stopping, temperature) is carved from the
remaining training part only, so test names never influence training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.model_selection import train_test_split

IndexArray = npt.NDArray[np.int64]

TEST_FRACTION = 0.1
VALIDATION_FRACTION = 0.1
SPLIT_SEED = 0


@dataclass(frozen=True)
class Split:
    """Disjoint example indices into a :class:`training.data.NamesDataset`."""

    train: IndexArray
    validation: IndexArray
    test: IndexArray


def _stratified(
    indices: IndexArray, targets: npt.NDArray[np.int64], fraction: float, seed: int
) -> tuple[IndexArray, IndexArray]:
    kept, held_out = train_test_split(
        indices, test_size=fraction, stratify=targets[indices], random_state=seed
    )
    return np.sort(np.asarray(kept, dtype=np.int64)), np.sort(np.asarray(held_out, dtype=np.int64))


def split_dataset(
    targets: npt.NDArray[np.int64],
    *,
    test_fraction: float = TEST_FRACTION,
    validation_fraction: float = VALIDATION_FRACTION,
    seed: int = SPLIT_SEED,
) -> Split:
    """Stratified test split of ``targets`` (seed 0 by default), then validation from the rest."""
    everything = np.arange(len(targets), dtype=np.int64)
    rest, test = _stratified(everything, targets, test_fraction, seed)
    train, validation = _stratified(rest, targets, validation_fraction, seed)
    return Split(train=train, validation=validation, test=test)
