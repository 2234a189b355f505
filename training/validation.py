"""The one number every validation-time choice maximizes: balanced accuracy, averaged over sources.

Early stopping, the naive Bayes head's weight and the served prior are all picked on validation
names. Pooled, the larger source (2,565 extra-source names beside 1,613 tutorial names, Russian
half of the latter) would decide them; callers send names of every source and language alike, so
each source's any-label balanced accuracy counts once and the mean is the objective.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from training.corpus import Pairs
from training.metrics import LabelledSet, labelled_set, score

FloatArray = npt.NDArray[np.floating[Any]]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SourceBalancedObjective:
    """Scores logits of the pooled validation pairs (in their order) as the mean over sources."""

    labels: tuple[str, ...]
    parts: tuple[tuple[IntArray, LabelledSet], ...]

    def per_source(self, logits: FloatArray) -> dict[str, float]:
        """Any-label balanced accuracy of each source's rows."""
        return {
            part.name: float(
                score(logits[rows], part, self.labels, any_label=True, rounds=0)[
                    "balanced_accuracy"
                ]
            )
            for rows, part in self.parts
        }

    def row_weights(self, rows: int) -> npt.NDArray[np.float32]:
        """Per-row weights giving each source the same total, for fits such as the temperature."""
        weights = np.zeros(rows, dtype=np.float32)
        for part_rows, _ in self.parts:
            weights[part_rows] = 1.0 / len(part_rows)
        return weights

    def __call__(self, logits: FloatArray) -> float:
        return float(np.mean(list(self.per_source(logits).values())))


def source_balanced_objective(
    validation: Pairs, sources: Mapping[str, Pairs], labels: Sequence[str]
) -> SourceBalancedObjective:
    """The objective over ``validation``'s rows, grouped by the source whose names they are.

    A source without names is left out; with no sources given, the pooled set is one source.
    """
    if not sources:
        sources = {"validation": validation}
    parts = []
    for source, pairs in sources.items():
        members = pairs.distinct_names()
        rows = np.asarray(
            [row for row, name in enumerate(validation.names) if name in members], dtype=np.int64
        )
        if len(rows):
            names = [validation.names[row] for row in rows]
            parts.append((rows, labelled_set(source, names, validation.targets[rows], len(labels))))
    return SourceBalancedObjective(tuple(labels), tuple(parts))
