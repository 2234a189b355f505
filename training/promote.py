"""The promotion gate: a candidate replaces ``artifacts/`` only if it is at least as good.

"As good" is measured, not read from a file: the incumbent artifact is re-scored through the
serving code on the candidate's test split, so an old ``metrics.json`` cannot flatter or shame it.
The swap itself is one atomic directory exchange, so a reader never sees half of each.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from nameorigin.core.classifier import Classifier
from nameorigin.core.manifest import ArtifactError
from nameorigin.core.normalization import NormalizationRule
from training.evaluate import classification_metrics

#: Headline metrics a candidate must match or beat.
GATED_METRICS = ("accuracy", "macro_f1")

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@dataclass(frozen=True)
class Verdict:
    """Whether the candidate may replace the incumbent, and why, in one line."""

    promote: bool
    reason: str


def artifact_log_probabilities(
    model_dir: Path, names: Sequence[str], labels: Sequence[str], rule: NormalizationRule
) -> tuple[npt.NDArray[np.float32], float]:
    """Served log-probabilities of ``names`` and the artifact's temperature, via the serving code.

    Raises :class:`ArtifactError` if the artifact is unloadable or was built for other labels or
    another normalization rule (its scores on these names would mean nothing).
    """
    classifier = Classifier.load(model_dir, intra_op_threads=2)
    if list(classifier.labels) != list(labels):
        raise ArtifactError(f"{model_dir} predicts other labels than the data has")
    if classifier.rule.to_manifest() != rule.to_manifest():
        raise ArtifactError(f"{model_dir} was built with another normalization rule")
    return classifier.log_probabilities(names), classifier.manifest.temperature


def score_artifact(
    model_dir: Path,
    names: Sequence[str],
    targets: npt.NDArray[np.int64],
    labels: Sequence[str],
    rule: NormalizationRule,
) -> dict[str, Any]:
    """Test metrics of the artifact in ``model_dir``, computed exactly the way serving runs it."""
    scores, temperature = artifact_log_probabilities(model_dir, names, labels, rule)
    return classification_metrics(scores, targets, tuple(labels), temperature)


def judge(candidate: dict[str, Any], incumbent: dict[str, Any] | None) -> Verdict:
    """Promote if there is no incumbent or the candidate is not worse on any gated metric."""
    if incumbent is None:
        return Verdict(True, "no current artifact to compare with")
    worse = [name for name in GATED_METRICS if candidate[name] < incumbent[name]]
    summary = ", ".join(
        f"{name} {candidate[name]:.4f} vs {incumbent[name]:.4f}" for name in GATED_METRICS
    )
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
