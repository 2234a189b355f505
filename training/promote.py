"""The promotion gate: a candidate replaces ``artifacts/`` only if it is at least as good.

"As good" is measured, not read from a file: the incumbent artifact is re-scored through the
serving code on the candidate's held-out sets (cross-source names first, then the tutorial test
split), so an old ``metrics.json`` cannot flatter or shame it.
The swap itself is one atomic directory exchange, so a reader never sees half of each.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from nameorigin.core.classifier import Classifier
from nameorigin.core.manifest import ArtifactError
from nameorigin.core.normalization import NormalizationRule

#: What the gate compares, in order: (set, scoring mode, figure). Cross-source balanced accuracy
#: comes first: it measures names from outside the tutorial data, at no class's expense.
GATED_METRICS: tuple[tuple[str, str, str], ...] = (
    ("cross_source", "strict", "balanced_accuracy"),
    ("tutorial_test", "any_label", "balanced_accuracy"),
    ("tutorial_test", "any_label", "macro_f1"),
)
#: A retrained model may differ in the last digits (thread scheduling); not a regression.
GATE_TOLERANCE = 0.002

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@dataclass(frozen=True)
class Verdict:
    """Whether the candidate may replace the incumbent, and why, in one line."""

    promote: bool
    reason: str


Scorer = Callable[[list[str]], npt.NDArray[np.float32]]


def artifact_scorer(
    model_dir: Path, labels: Sequence[str], rule: NormalizationRule
) -> tuple[Scorer, float]:
    """A function names → served log-probabilities, and the artifact's temperature.

    Runs the serving code itself (``Classifier``). Raises :class:`ArtifactError` if the artifact
    is unloadable or was built for other labels or another normalization rule (its scores on
    these names would mean nothing).
    """
    classifier = Classifier.load(model_dir, intra_op_threads=2)
    if list(classifier.labels) != list(labels):
        raise ArtifactError(f"{model_dir} predicts other labels than the data has")
    if classifier.rule.to_manifest() != rule.to_manifest():
        raise ArtifactError(f"{model_dir} was built with another normalization rule")

    def scorer(names: list[str]) -> npt.NDArray[np.float32]:
        return classifier.log_probabilities(names)

    return scorer, classifier.manifest.temperature


def _figure(report: dict[str, Any], key: tuple[str, str, str]) -> float | None:
    set_name, mode, figure = key
    if set_name not in report:
        return None
    return float(report[set_name]["scores"][mode]["model"][figure])


def judge(candidate: dict[str, Any], incumbent: dict[str, Any] | None) -> Verdict:
    """Promote if there is no incumbent or the candidate is not worse on any gated figure.

    Both arguments are :func:`training.evaluation.evaluate` reports on the same sets.
    """
    if incumbent is None:
        return Verdict(True, "no current artifact to compare with")
    compared = []
    worse = []
    for key in GATED_METRICS:
        ours, theirs = _figure(candidate, key), _figure(incumbent, key)
        if ours is None or theirs is None:
            continue
        name = "/".join(key)
        compared.append(f"{name} {ours:.4f} vs {theirs:.4f}")
        if ours < theirs - GATE_TOLERANCE:
            worse.append(name)
    summary = ", ".join(compared)
    if worse:
        return Verdict(False, f"candidate is worse on {', '.join(worse)} ({summary})")
    return Verdict(True, f"candidate is at least as good ({summary})")


def _exchange(first: Path, second: Path) -> bool:
    """Atomically swap two directories with Linux ``renameat2(RENAME_EXCHANGE)``, if available."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    status = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    return bool(status == 0)


def replace_directory(new: Path, target: Path, previous: Path) -> None:
    """Make ``new`` become ``target``; the old ``target`` ends up at ``previous`` (for rollback).

    Uses an atomic exchange where the OS offers one, otherwise two renames (a window of
    microseconds in which ``target`` is absent, never a mix of old and new files).
    """
    if previous.exists():
        shutil.rmtree(previous)
    if not target.exists():
        new.rename(target)
        return
    if _exchange(new, target):
        new.rename(previous)
        return
    target.rename(previous)
    new.rename(target)
