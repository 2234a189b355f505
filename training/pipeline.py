"""``make train``: data check → train → calibrate → export → parity → evaluate → promote.

Everything is built in a fresh candidate folder beside ``artifacts/``; the folder is deleted if any
step fails, and it replaces ``artifacts/`` only through the promotion gate. So ``artifacts/`` is
loadable at every moment, and a failed or worse run leaves it untouched.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nameorigin.core.encoding import CharacterEncoder
from nameorigin.core.manifest import (
    LENGTHS_INPUT,
    LOG_PROBABILITIES_OUTPUT,
    TOKENS_INPUT,
    ArtifactError,
    Manifest,
    TensorSpec,
    load_manifest,
    sha256_of_file,
    write_manifest,
)
from nameorigin.core.normalization import DEFAULT_RULE, NormalizationRule
from training.data import NamesDataset, load_names
from training.evaluate import (
    classification_metrics,
    confusion,
    fit_temperature,
    tune_prior_adjustment,
)
from training.export import (
    PARITY_TOLERANCE,
    ParityReport,
    check_graph,
    check_parity,
    export_onnx,
)
from training.model import NameClassifierEnsemble
from training.onnx_graph import OPSET
from training.plots import CONFUSION_PNG, CURVES_PNG, plot_confusion, plot_curves
from training.promote import (
    Verdict,
    artifact_log_probabilities,
    judge,
    replace_directory,
    score_artifact,
)
from training.schema import write_schema
from training.split import SPLIT_SEED, TEST_FRACTION, VALIDATION_FRACTION, Split, split_dataset
from training.train import IntArray, TrainingConfig, class_frequencies, predict_logits, train

METRICS_FILE = "metrics.json"
MODEL_FILE = "model.onnx"
#: Longest name the artifact is checked for (parity runs with the batch padded this far).
MAX_NAME_LENGTH = 64
#: The issue's targets on the test split; recorded so metrics.json says whether they are met.
TARGETS = {"accuracy": 0.87, "macro_f1": 0.72, "ece": 0.05}


class PromotionRefusedError(RuntimeError):
    """The candidate is complete and verified but worse than the current artifact."""


@dataclass(frozen=True)
class PipelineOptions:
    """Where to read and write, and how hard to try."""

    data_dir: Path
    artifacts_dir: Path
    work_dir: Path
    config: TrainingConfig
    force: bool = False
    threads: int = 2
    progress: bool = True


@dataclass(frozen=True)
class PipelineResult:
    """What happened: the verdict and where the (promoted or kept) candidate is."""

    verdict: Verdict
    candidate_dir: Path
    metrics: dict[str, Any]


def _log(message: str) -> None:
    print(f"[train] {message}", flush=True)


@dataclass(frozen=True)
class Calibration:
    """Post-hoc fits on validation, baked into the model before export."""

    prior_adjustment: float
    temperature: float
    validation_logits: torch.Tensor


def calibrate(
    model: NameClassifierEnsemble,
    encoded: tuple[IntArray, IntArray, IntArray],
    split: Split,
    num_labels: int,
    prior_adjustment: float,
) -> Calibration:
    """Fit (or apply) the prior adjustment τ, then the temperature, on validation names only."""
    tokens, lengths, targets = encoded
    validation_targets = targets[split.validation]
    raw_logits = predict_logits(model, tokens[split.validation], lengths[split.validation])
    train_counts = class_frequencies(targets[split.train], num_labels)
    log_prior = torch.from_numpy(np.log(train_counts / train_counts.sum())).float()
    if prior_adjustment < 0:
        prior_adjustment = tune_prior_adjustment(raw_logits, validation_targets, log_prior)
    model.logit_bias.copy_(-prior_adjustment * log_prior)
    validation_logits = raw_logits - prior_adjustment * log_prior
    temperature = fit_temperature(validation_logits, torch.from_numpy(validation_targets))
    model.temperature.fill_(temperature)
    return Calibration(prior_adjustment, temperature, validation_logits)


def make_manifest(
    dataset: NamesDataset,
    model_path: Path,
    temperature: float,
    training_info: dict[str, Any],
    rule: NormalizationRule,
) -> Manifest:
    """Everything serving needs to know about ``model_path`` (metrics are filled in later)."""
    created = datetime.now(UTC)
    return Manifest(
        model_version=f"char-bigru-{created:%Y%m%d-%H%M%S}",
        created_at=created,
        model_file=MODEL_FILE,
        model_sha256=sha256_of_file(model_path),
        data_sha256=dataset.sha256,
        labels=list(dataset.labels),
        normalization=rule.to_manifest(),
        max_name_length=MAX_NAME_LENGTH,
        opset=OPSET,
        temperature=temperature,
        inputs=[
            TensorSpec(name=TOKENS_INPUT, dtype="int64", shape=["batch", "time"]),
            TensorSpec(name=LENGTHS_INPUT, dtype="int64", shape=["batch"]),
        ],
        outputs=[
            TensorSpec(
                name=LOG_PROBABILITIES_OUTPUT, dtype="float32", shape=["batch", len(dataset.labels)]
            )
        ],
        metrics={},
        training=training_info,
    )


def metrics_document(
    manifest: Manifest,
    test_metrics: dict[str, Any],
    validation_metrics: dict[str, Any],
    parity: ParityReport,
) -> dict[str, Any]:
    """The content of ``metrics.json``: test figures, validation summary, targets, parity."""
    return {
        "model_version": manifest.model_version,
        "data_sha256": manifest.data_sha256,
        "split": manifest.training["split"],
        "test": test_metrics,
        "validation": {k: v for k, v in validation_metrics.items() if k != "per_class"},
        "targets": TARGETS,
        "targets_met": {
            "accuracy": test_metrics["accuracy"] >= TARGETS["accuracy"],
            "macro_f1": test_metrics["macro_f1"] >= TARGETS["macro_f1"],
            "ece": test_metrics["ece"] <= TARGETS["ece"],
        },
        "parity": {
            "examples": parity.examples,
            "max_abs_difference": parity.max_abs_difference,
            "max_padding_difference": parity.max_padding_difference,
            "tolerance": PARITY_TOLERANCE,
        },
        "training": manifest.training,
    }


def build_candidate(
    dataset: NamesDataset,
    split: Split,
    options: PipelineOptions,
    candidate_dir: Path,
    rule: NormalizationRule = DEFAULT_RULE,
) -> dict[str, Any]:
    """Train, calibrate, export, verify and score into ``candidate_dir``; returns its metrics."""
    encoder = CharacterEncoder(rule.alphabet)
    tokens, lengths = encoder.encode(dataset.names)
    targets, labels = dataset.targets, dataset.labels
    started = time.monotonic()
    result = train(
        options.config,
        tokens,
        lengths,
        targets,
        split.train,
        split.validation,
        encoder.vocabulary_size,
        len(labels),
        progress=options.progress,
    )
    fitted = calibrate(
        result.model,
        (tokens, lengths, targets),
        split,
        len(labels),
        options.config.prior_adjustment,
    )
    training_seconds = time.monotonic() - started
    _log(
        f"trained in {training_seconds:.0f} s; prior adjustment τ {fitted.prior_adjustment:.1f}, "
        f"temperature {fitted.temperature:.3f}"
    )

    model_path = candidate_dir / MODEL_FILE
    export_onnx(result.model, model_path)
    check_graph(model_path, len(labels), OPSET)
    test_names = [dataset.names[i] for i in split.test]
    test_tokens, _ = encoder.encode(test_names, pad_to=MAX_NAME_LENGTH)
    parity = check_parity(result.model, model_path, test_tokens, lengths[split.test])
    _log(
        f"parity on {parity.examples} test names: max |Δ| {parity.max_abs_difference:.1e}, "
        f"padding Δ {parity.max_padding_difference:.1e}"
    )

    training_info = {
        "config": options.config.to_dict(),
        "seconds": round(training_seconds, 1),
        "threads": options.threads,
        "best_epochs": result.best_epochs,
        "prior_adjustment": fitted.prior_adjustment,
        "data_lines": dataset.lines_read,
        "examples": len(dataset),
        "longest_name": int(lengths.max()),
        "split": {
            "seed": SPLIT_SEED,
            "test_fraction": TEST_FRACTION,
            "validation_fraction": VALIDATION_FRACTION,
            "train": len(split.train),
            "validation": len(split.validation),
            "test": len(split.test),
        },
        "torch": torch.__version__,
    }
    manifest = make_manifest(dataset, model_path, fitted.temperature, training_info, rule)
    write_manifest(manifest, candidate_dir)
    # Scored through the serving code on the written artifact, exactly as a client would get it.
    test_scores, _ = artifact_log_probabilities(candidate_dir, test_names, labels, rule)
    test_metrics = classification_metrics(
        test_scores, targets[split.test], labels, fitted.temperature
    )
    manifest = manifest.model_copy(
        update={
            "metrics": {
                "test_accuracy": test_metrics["accuracy"],
                "test_macro_f1": test_metrics["macro_f1"],
                "test_ece": test_metrics["ece"],
                "test_ece_before_temperature": test_metrics["ece_before_temperature"],
                "test_examples": test_metrics["examples"],
                "parity_max_abs_difference": parity.max_abs_difference,
            }
        }
    )
    write_manifest(manifest, candidate_dir)
    load_manifest(candidate_dir)  # the written pair must load the way serving loads it

    validation_scores = torch.log_softmax(fitted.validation_logits / fitted.temperature, dim=1)
    validation_metrics = classification_metrics(
        validation_scores.numpy(), targets[split.validation], labels, fitted.temperature
    )
    metrics = metrics_document(manifest, test_metrics, validation_metrics, parity)
    (candidate_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", "utf-8")
    matrix = confusion(test_scores, targets[split.test], len(labels))
    plot_confusion(matrix, labels, candidate_dir / CONFUSION_PNG)
    plot_curves(result.history, candidate_dir / CURVES_PNG)
    write_schema(candidate_dir)
    return metrics


def run_pipeline(options: PipelineOptions) -> PipelineResult:
    """The whole of ``make train``; raises DataError, ExportError, ArtifactError or a refusal."""
    torch.set_num_threads(options.threads)
    dataset = load_names(options.data_dir)
    _log(
        f"{dataset.lines_read} lines → {len(dataset)} distinct (name, label) pairs, "
        f"{len(dataset.labels)} labels, data sha256 {dataset.sha256[:12]}…"
    )
    split = split_dataset(dataset.targets)
    options.work_dir.mkdir(parents=True, exist_ok=True)
    # Unique even for two runs in the same second (mkdtemp), still sortable by time.
    candidate_dir = Path(
        tempfile.mkdtemp(
            prefix=f"candidate-{datetime.now(UTC):%Y%m%d-%H%M%S}-", dir=options.work_dir
        )
    )
    try:
        metrics = build_candidate(dataset, split, options, candidate_dir)
    except BaseException:
        shutil.rmtree(candidate_dir, ignore_errors=True)
        raise
    test = metrics["test"]
    _log(
        f"candidate: accuracy {test['accuracy']:.4f}, macro-F1 {test['macro_f1']:.4f}, "
        f"ECE {test['ece']:.4f} (before temperature {test['ece_before_temperature']:.4f})"
    )
    verdict = gate(dataset, split, metrics, options)
    if not verdict.promote:
        raise PromotionRefusedError(f"{verdict.reason}; candidate kept at {candidate_dir}")
    replace_directory(candidate_dir, options.artifacts_dir, options.work_dir / "previous")
    _log(f"promoted to {options.artifacts_dir}: {verdict.reason}")
    return PipelineResult(verdict, options.artifacts_dir, metrics)


def gate(
    dataset: NamesDataset, split: Split, metrics: dict[str, Any], options: PipelineOptions
) -> Verdict:
    """Compare with the current artifact re-scored on this test split (force skips the check)."""
    if options.force:
        return Verdict(True, "forced")
    if not (options.artifacts_dir / "manifest.json").exists():
        return judge(metrics["test"], None)
    names = [dataset.names[i] for i in split.test]
    try:
        incumbent = score_artifact(
            options.artifacts_dir, names, dataset.targets[split.test], dataset.labels, DEFAULT_RULE
        )
    except ArtifactError as error:
        raise ArtifactError(f"current artifact cannot be compared ({error}); use FORCE=1") from None
    return judge(metrics["test"], incumbent)
