"""The one number every validation-time choice maximizes: the reported figures, source-balanced.

Early stopping, the naive Bayes head's weight and which init ships (and τ, when the config asks
for a tuned rather than a uniform served prior) are all picked on validation names. Pooled, the
larger source (2,565 extra-source names beside 1,613 tutorial names, Russian half of the latter)
would decide them; callers send names of every source and language alike, so
each source counts once and the mean is the objective.

Per source the figure is the mean of the four any-label figures every evaluation reports
(balanced accuracy, macro-F1, top-1, top-3): a model is judged on all four against its
baselines, and balanced accuracy alone kept the naive Bayes head out although it raised the other
three on both test sets (docs/training.md, experiments).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from training.corpus import Pairs
from training.metrics import HEADLINE, LabelledSet, labelled_set, score

FloatArray = npt.NDArray[np.floating[Any]]
IntArray = npt.NDArray[np.int64]

#: What ``TrainingConfig.selection_figures`` may name (figures of ``training.metrics.score``).
KNOWN_FIGURES = HEADLINE
#: The default: every reported figure counts the same.
ALL_FIGURES = ",".join(KNOWN_FIGURES)


def parse_figures(figures: str) -> tuple[str, ...]:
    """``"balanced_accuracy,top3"`` → the figure names, checked (a typo must not train silently)."""
    names = tuple(name.strip() for name in figures.split(",") if name.strip())
    unknown = sorted(set(names) - set(KNOWN_FIGURES))
    if not names or unknown:
        raise ValueError(f"selection figures must be some of {KNOWN_FIGURES}, got {figures!r}")
    return names


@dataclass(frozen=True)
class SourceBalancedObjective:
    """Scores logits of the pooled validation pairs (in their order) as the mean over sources."""

    labels: tuple[str, ...]
    parts: tuple[tuple[IntArray, LabelledSet], ...]
    figures: tuple[str, ...] = KNOWN_FIGURES

    def per_source(self, logits: FloatArray) -> dict[str, float]:
        """The mean of the chosen any-label figures on each source's rows."""
        result = {}
        for rows, part in self.parts:
            figures = score(logits[rows], part, self.labels, any_label=True, rounds=0)
            result[part.name] = float(np.mean([figures[name] for name in self.figures]))
        return result

    def row_weights(self, rows: int) -> npt.NDArray[np.float32]:
        """Per-row weights giving each source the same total, for fits such as the temperature."""
        weights = np.zeros(rows, dtype=np.float32)
        for part_rows, _ in self.parts:
            weights[part_rows] = 1.0 / len(part_rows)
        return weights

    def __call__(self, logits: FloatArray) -> float:
        return float(np.mean(list(self.per_source(logits).values())))


def source_balanced_objective(
    validation: Pairs,
    sources: Mapping[str, Pairs],
    labels: Sequence[str],
    figures: str = ALL_FIGURES,
) -> SourceBalancedObjective:
    """The objective over ``validation``'s rows, grouped by the source whose names they are.

    A source without names is left out; with no sources given, the pooled set is one source.
    """
    chosen = parse_figures(figures)
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
    return SourceBalancedObjective(tuple(labels), tuple(parts), chosen)
