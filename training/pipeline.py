"""``make train``: data check → split → train → calibrate → export → parity → evaluate → promote.

Everything is built in a fresh candidate folder beside ``artifacts/``; the folder is deleted if any
step fails, and it replaces ``artifacts/`` only through the promotion gate. So ``artifacts/`` is
loadable at every moment, and a failed or worse run leaves it untouched.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
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
from training.baselines import Ethnicseer
from training.corpus import Corpus, build_corpus
from training.data import NamesDataset, load_names
from training.evaluate import calibration_metrics, confusion, fit_temperature, tune_prior_adjustment
from training.evaluation import (
    MODEL,
    Contender,
    evaluate,
    headline,
    score_sets,
    train_baselines,
)
from training.export import PARITY_TOLERANCE, ParityReport, check_graph, check_parity, export_onnx
from training.model import NameClassifierEnsemble
from training.naive_bayes import fit_naive_bayes, tune_naive_bayes_weight
from training.onnx_graph import OPSET, round_tables_as_stored
from training.plots import CONFUSION_PNG, CURVES_PNG, plot_confusion, plot_curves
from training.prior_shift import prior_shift
from training.promote import Verdict, artifact_scorer, judge, replace_directory
from training.schema import write_schema
from training.sources import (
    PACKAGE_LICENSES,
    SourceName,
    listing_sha256,
    package_versions,
    read_sources,
)
from training.train import TUNED_PRIOR, EpochRecord, TrainingConfig, names_logits, train
from training.validation import SourceBalancedObjective, source_balanced_objective

METRICS_FILE = "metrics.json"
MODEL_FILE = "model.onnx"
#: Longest name the artifact is checked for (parity runs with the batch padded this far).
MAX_NAME_LENGTH = 64
#: The issue's targets; recorded so metrics.json says whether each is met.
TARGETS: dict[str, tuple[str, float]] = {
    "cross_source_strict_top1": (">=", 0.75),
    "cross_source_strict_top3": (">=", 0.92),
    "tutorial_test_any_label_top1": (">=", 0.87),
    "tutorial_test_any_label_macro_f1": (">=", 0.65),
    "tutorial_test_ece": ("<=", 0.03),
}


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
    #: Score the public peer ethnicseer too (needs the train extra; off in unit tests).
    peer: bool = True
    #: Where the extra names come from (tests pass a small list of their own).
    source_loader: Callable[[], Sequence[SourceName]] = field(default=read_sources)


@dataclass(frozen=True)
class PipelineResult:
    """What happened: the verdict and where the (promoted or kept) candidate is."""

    verdict: Verdict
    candidate_dir: Path
    metrics: dict[str, Any]


def _log(message: str) -> None:
    print(f"[train] {message}", flush=True)


def load_corpus(
    data_dir: Path, config: TrainingConfig, source_loader: Callable[[], Sequence[SourceName]]
) -> tuple[NamesDataset, Corpus]:
    """Read the tutorial data (and the extra sources, if the config uses them) and split them."""
    dataset = load_names(data_dir)
    extra = list(source_loader()) if config.extra_sources else []
    known = set(dataset.labels)
    extra = [name for name in extra if name.label in known]
    split_seed = config.seed if config.split_seed < 0 else config.split_seed
    corpus = build_corpus(dataset, extra, seed=split_seed)
    corpus.info["extra_sources"] = {
        "used": bool(extra),
        "names": len(extra),
        "sha256": listing_sha256(extra),
        "packages": {
            package: {"version": version, "license": PACKAGE_LICENSES.get(package, "?")}
            for package, version in (package_versions().items() if extra else [])
        },
    }
    return dataset, corpus


@dataclass(frozen=True)
class Calibration:
    """Post-hoc fits on validation, baked into the model before export."""

    prior_adjustment: float
    temperature: float
    #: The validation objective of the calibrated logits (which init ships is decided on it).
    validation_objective: float = 0.0


def calibrate(
    model: NameClassifierEnsemble,
    log_prior: torch.Tensor,
    corpus: Corpus,
    encoder: CharacterEncoder,
    prior_adjustment: float,
    objective: SourceBalancedObjective,
    class_weight_power: float,
) -> Calibration:
    """Apply (or tune) the prior adjustment τ, then fit the temperature, on validation names only.

    ``UNIFORM_PRIOR`` removes what the class weights left of the training prior, so the served
    prior is uniform; ``TUNED_PRIOR`` lets the validation objective pick τ.
    """
    validation = corpus.validation
    raw_logits = names_logits(model, encoder, list(validation.names))
    if prior_adjustment == TUNED_PRIOR:
        prior_adjustment = tune_prior_adjustment(raw_logits, objective, log_prior)
    elif prior_adjustment < 0:
        prior_adjustment = 1.0 - class_weight_power
    model.logit_bias.copy_(-prior_adjustment * log_prior)
    adjusted = raw_logits - prior_adjustment * log_prior
    temperature = fit_temperature(
        adjusted,
        torch.from_numpy(validation.targets),
        torch.from_numpy(objective.row_weights(len(validation))),
    )
    model.temperature.fill_(temperature)
    # Figures are rank-based: the temperature changes none of them, τ does.
    return Calibration(prior_adjustment, temperature, objective(adjusted.numpy()))


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
        model_version=f"char-bigru-ngram-{created:%Y%m%d-%H%M%S}",
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


def targets_met(figures: dict[str, float]) -> dict[str, bool]:
    """Each target of :data:`TARGETS` that the figures can answer, met or not."""
    return {
        key: (figures[key] >= bound if sense == ">=" else figures[key] <= bound)
        for key, (sense, bound) in TARGETS.items()
        if key in figures
    }


def model_figures(report: dict[str, Any], calibration: dict[str, float]) -> dict[str, float]:
    """The manifest's flat metrics: headline scores of the model plus calibration."""
    figures = headline(report, MODEL) if "cross_source" in report else {}
    figures["tutorial_test_ece"] = calibration["ece"]
    figures["tutorial_test_ece_before_temperature"] = calibration["ece_before_temperature"]
    if "cross_source_ece" in calibration:
        figures["cross_source_ece"] = calibration["cross_source_ece"]
    return figures


def evaluate_artifact(
    model_dir: Path,
    corpus: Corpus,
    *,
    peer: bool,
    baselines: dict[str, Contender] | None = None,
) -> tuple[dict[str, Any], dict[str, float]]:
    """Score the artifact in ``model_dir`` (via the serving code), the baselines and the peer."""
    scorer, temperature = artifact_scorer(model_dir, corpus.labels, DEFAULT_RULE)
    contenders = {MODEL: Contender(scorer)}
    contenders.update(baselines if baselines is not None else train_baselines(corpus))
    # Every model's answers on each test set, computed once for the scores, calibration and the
    # prior table.
    answers = score_sets(corpus, contenders)
    report = evaluate(corpus, contenders, Ethnicseer() if peer else None, answers=answers)
    test, cross_source = corpus.tutorial_test, corpus.cross_source_test
    calibration = calibration_metrics(answers[test.name][MODEL], test.targets, temperature)
    if cross_source.name in answers:
        # The temperature is fitted on both sources' validation names alike: show both sides.
        calibration["cross_source_ece"] = calibration_metrics(
            answers[cross_source.name][MODEL], cross_source.targets, temperature
        )["ece"]
    report["calibration"] = calibration
    report["prior_shift"] = prior_shift(corpus, answers)
    report["baseline_fit_seconds"] = {
        name: round(contender.fit_seconds, 1) for name, contender in contenders.items()
    }
    return report, model_figures(report, calibration)


def metrics_document(
    manifest: Manifest,
    corpus: Corpus,
    report: dict[str, Any],
    figures: dict[str, float],
    parity: ParityReport | None,
) -> dict[str, Any]:
    """The content of ``metrics.json``: every evaluation, targets, parity and training."""
    document: dict[str, Any] = {
        "model_version": manifest.model_version,
        "data_sha256": manifest.data_sha256,
        "split": corpus.info,
        "headline": figures,
        "targets": {key: {"sense": s, "bound": b} for key, (s, b) in TARGETS.items()},
        "targets_met": targets_met(figures),
        "evaluations": report,
        "training": manifest.training,
    }
    if parity is not None:
        document["parity"] = {
            "examples": parity.examples,
            "max_abs_difference": parity.max_abs_difference,
            "max_padding_difference": parity.max_padding_difference,
            "tolerance": PARITY_TOLERANCE,
        }
    return document


def _parity_names(corpus: Corpus) -> list[str]:
    return sorted(set(corpus.tutorial_test.names) | set(corpus.cross_source_test.names))


@dataclass(frozen=True)
class TrainedModel:
    """The train step's result: a calibrated model not yet exported, and how it got there.

    The Kubeflow components hand it from the train step to export and parity as a checkpoint
    (:mod:`training.kubeflow.handoff`); ``make train`` keeps it in memory.
    """

    model: NameClassifierEnsemble
    history: list[EpochRecord]
    best_epochs: list[int]
    naive_bayes_weight: float
    calibration: Calibration
    seconds: float
    #: The init that shipped, and every init tried with its validation objective.
    seed: int = 0
    inits: list[dict[str, float]] = field(default_factory=list)


def train_candidate(
    corpus: Corpus,
    config: TrainingConfig,
    *,
    progress: bool = True,
    rule: NormalizationRule = DEFAULT_RULE,
) -> TrainedModel:
    """Train ``config.init_candidates`` inits (network, naive Bayes head, calibration) on
    ``corpus.train`` and keep the one with the best validation objective."""
    encoder = CharacterEncoder(rule.alphabet)
    started = time.monotonic()
    objective = source_balanced_objective(
        corpus.validation, corpus.validation_sources, corpus.labels, config.selection_figures
    )
    best: TrainedModel | None = None
    best_value = -1.0
    tried: list[dict[str, float]] = []
    for offset in range(max(1, config.init_candidates)):
        seed = config.seed + offset
        trained = _train_init(corpus, replace(config, seed=seed), encoder, objective, progress)
        value = trained.calibration.validation_objective
        tried.append({"seed": seed, "validation_objective": round(value, 6)})
        _log(f"init seed {seed}: validation objective {value:.4f}")
        if best is None or value > best_value:  # ties: the lower seed
            best, best_value = trained, value
    assert best is not None
    if len(tried) > 1:
        _log(f"kept init seed {best.seed} of {len(tried)}")
    return replace(best, seconds=time.monotonic() - started, inits=tried)


def _train_init(
    corpus: Corpus,
    config: TrainingConfig,
    encoder: CharacterEncoder,
    objective: SourceBalancedObjective,
    progress: bool,
) -> TrainedModel:
    """One init: the network, its naive Bayes head, then calibration (``config.seed``)."""
    labels = corpus.labels
    started = time.monotonic()
    result = train(
        config,
        corpus.train,
        corpus.validation,
        encoder,
        labels,
        objective=objective,
        progress=progress,
    )
    naive_bayes_weight = 0.0
    if config.ngram_dim and config.naive_bayes_head:
        fit_naive_bayes(result.model, corpus.train, encoder, len(labels))
        residual = (1.0 - config.class_weight_power) * result.log_prior
        naive_bayes_weight = tune_naive_bayes_weight(
            result.model, corpus.validation.names, objective, encoder, residual
        )
    fitted = calibrate(
        result.model,
        result.log_prior,
        corpus,
        encoder,
        config.prior_adjustment,
        objective,
        config.class_weight_power,
    )
    training_seconds = time.monotonic() - started
    _log(
        f"trained in {training_seconds:.0f} s; naive Bayes weight {naive_bayes_weight}, "
        f"prior adjustment τ {fitted.prior_adjustment:.1f}, "
        f"temperature {fitted.temperature:.3f}"
    )
    return TrainedModel(
        result.model,
        result.history,
        result.best_epochs,
        naive_bayes_weight,
        fitted,
        training_seconds,
        seed=config.seed,
    )


def export_candidate(
    trained: TrainedModel,
    dataset: NamesDataset,
    corpus: Corpus,
    candidate_dir: Path,
    training_info: dict[str, Any],
    rule: NormalizationRule = DEFAULT_RULE,
) -> Manifest:
    """Export the model to ONNX, check the graph, and write its manifest (metrics come later)."""
    model_path = candidate_dir / MODEL_FILE
    export_onnx(trained.model, model_path)
    check_graph(model_path, len(corpus.labels), OPSET)
    temperature = trained.calibration.temperature
    manifest = make_manifest(dataset, model_path, temperature, training_info, rule)
    write_manifest(manifest, candidate_dir)
    return manifest


def check_candidate_parity(
    trained: TrainedModel,
    candidate_dir: Path,
    corpus: Corpus,
    rule: NormalizationRule = DEFAULT_RULE,
) -> ParityReport:
    """The exported graph must answer as the torch model on every held-out name, padded far."""
    encoder = CharacterEncoder(rule.alphabet)
    # The torch model as exported: export rounds its tables in place, a model reloaded from a
    # checkpoint taken before export (the Kubeflow parity step's) is not rounded yet. Idempotent.
    round_tables_as_stored(trained.model)
    parity_tokens, parity_lengths = encoder.encode(_parity_names(corpus), pad_to=MAX_NAME_LENGTH)
    parity = check_parity(trained.model, candidate_dir / MODEL_FILE, parity_tokens, parity_lengths)
    _log(
        f"parity on {parity.examples} held-out names: max |Δ| {parity.max_abs_difference:.1e}, "
        f"padding Δ {parity.max_padding_difference:.1e}"
    )
    return parity


def served_prior(config: TrainingConfig, tau: float) -> str:
    """What the manifest says about the prior the model answers with."""
    uniform_at = 1.0 - config.class_weight_power
    if config.prior_adjustment == TUNED_PRIOR:
        return (
            f"logits - τ·log(training prior), τ = {tau:g} tuned for the validation objective "
            f"({config.selection_figures}); uniform at τ = {uniform_at:g}"
        )
    if config.prior_adjustment < 0:
        return f"uniform over the labels: logits - τ·log(training prior), τ = {tau:g}"
    return f"logits - τ·log(training prior), τ = {tau:g} as configured; uniform at {uniform_at:g}"


def training_record(
    trained: TrainedModel,
    dataset: NamesDataset,
    corpus: Corpus,
    config: TrainingConfig,
    threads: int,
) -> dict[str, Any]:
    """The manifest's ``training`` entry: config, time, fitted values, data and split sizes."""
    return {
        "config": config.to_dict(),
        "seconds": round(trained.seconds, 1),
        "threads": threads,
        "best_epochs": trained.best_epochs,
        "init_seed": trained.seed,
        "inits": trained.inits,
        "prior_adjustment": trained.calibration.prior_adjustment,
        "naive_bayes_weight": trained.naive_bayes_weight,
        "served_prior": served_prior(config, trained.calibration.prior_adjustment),
        "data_lines": dataset.lines_read,
        "examples": len(dataset),
        "train_pairs": len(corpus.train),
        "longest_name": max(len(name) for name in dataset.names),
        "extra_sources": corpus.info.get("extra_sources", {}),
        "torch": torch.__version__,
    }


@dataclass(frozen=True)
class ScoredCandidate:
    """The evaluate step's result: ``metrics.json``'s content and the tutorial-test confusion.

    ``confusion`` is normalized by row, as plotted.
    """

    metrics: dict[str, Any]
    confusion: npt.NDArray[np.float64]


def score_candidate(
    candidate_dir: Path,
    corpus: Corpus,
    parity: ParityReport,
    history: list[EpochRecord],
    *,
    peer: bool,
    baselines: dict[str, Contender] | None = None,
    rule: NormalizationRule = DEFAULT_RULE,
) -> ScoredCandidate:
    """Score the exported candidate with every set and baseline; complete its folder."""
    manifest = load_manifest(candidate_dir)
    # Scored through the serving code on the written artifact, exactly as a client would get it.
    report, figures = evaluate_artifact(candidate_dir, corpus, peer=peer, baselines=baselines)
    manifest = manifest.model_copy(
        update={"metrics": {**figures, "parity_max_abs_difference": parity.max_abs_difference}}
    )
    write_manifest(manifest, candidate_dir)
    load_manifest(candidate_dir)  # the written pair must load the way serving loads it

    metrics = metrics_document(manifest, corpus, report, figures, parity)
    (candidate_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", "utf-8")
    test = corpus.tutorial_test
    scorer, _ = artifact_scorer(candidate_dir, corpus.labels, rule)
    matrix = confusion(scorer(list(test.names)), test.targets, len(corpus.labels))
    plot_confusion(matrix, corpus.labels, candidate_dir / CONFUSION_PNG)
    plot_curves(history, candidate_dir / CURVES_PNG)
    write_schema(candidate_dir)
    return ScoredCandidate(metrics, matrix)


def build_candidate(
    dataset: NamesDataset,
    corpus: Corpus,
    options: PipelineOptions,
    candidate_dir: Path,
    rule: NormalizationRule = DEFAULT_RULE,
    baselines: dict[str, Contender] | None = None,
) -> dict[str, Any]:
    """Train, calibrate, export, verify and score into ``candidate_dir``; returns its metrics.

    ``baselines`` defaults to training naive Bayes and logistic regression on the same names.
    The steps are those the Kubeflow pipeline runs as separate components (training/kubeflow/).
    """
    trained = train_candidate(corpus, options.config, progress=options.progress, rule=rule)
    record = training_record(trained, dataset, corpus, options.config, options.threads)
    export_candidate(trained, dataset, corpus, candidate_dir, record, rule)
    parity = check_candidate_parity(trained, candidate_dir, corpus, rule)
    scored = score_candidate(
        candidate_dir,
        corpus,
        parity,
        trained.history,
        peer=options.peer,
        baselines=baselines,
        rule=rule,
    )
    return scored.metrics


def run_pipeline(options: PipelineOptions) -> PipelineResult:
    """The whole of ``make train``; raises DataError, ExportError, ArtifactError or a refusal."""
    torch.set_num_threads(options.threads)
    dataset, corpus = load_corpus(options.data_dir, options.config, options.source_loader)
    _log(
        f"{dataset.lines_read} lines → {len(dataset)} distinct (name, label) pairs, "
        f"{len(dataset.labels)} labels, data sha256 {dataset.sha256[:12]}…; "
        f"train {len(corpus.train)}, validation {len(corpus.validation)}, tutorial test "
        f"{len(corpus.tutorial_test)}, cross-source test {len(corpus.cross_source_test)}"
    )
    options.work_dir.mkdir(parents=True, exist_ok=True)
    # Unique even for two runs in the same second (mkdtemp), still sortable by time.
    candidate_dir = Path(
        tempfile.mkdtemp(
            prefix=f"candidate-{datetime.now(UTC):%Y%m%d-%H%M%S}-", dir=options.work_dir
        )
    )
    try:
        metrics = build_candidate(dataset, corpus, options, candidate_dir)
    except BaseException:
        shutil.rmtree(candidate_dir, ignore_errors=True)
        raise
    _log("candidate: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics["headline"].items()))
    verdict = gate(corpus, metrics, options)
    if not verdict.promote:
        raise PromotionRefusedError(f"{verdict.reason}; candidate kept at {candidate_dir}")
    replace_directory(candidate_dir, options.artifacts_dir, options.work_dir / "previous")
    _log(f"promoted to {options.artifacts_dir}: {verdict.reason}")
    return PipelineResult(verdict, options.artifacts_dir, metrics)


def gate(corpus: Corpus, metrics: dict[str, Any], options: PipelineOptions) -> Verdict:
    """Compare with the current artifact re-scored on the same sets (force skips the check)."""
    if options.force:
        return Verdict(True, "forced")
    return judge_against(corpus, metrics, options.artifacts_dir)


def judge_against(corpus: Corpus, metrics: dict[str, Any], incumbent_dir: Path | None) -> Verdict:
    """The gate proper: the candidate's evaluations against ``incumbent_dir`` re-scored now."""
    if incumbent_dir is None or not (incumbent_dir / "manifest.json").exists():
        return judge(metrics["evaluations"], None)
    try:
        scorer, _ = artifact_scorer(incumbent_dir, corpus.labels, DEFAULT_RULE)
    except ArtifactError as error:
        raise ArtifactError(f"current artifact cannot be compared ({error}); use FORCE=1") from None
    incumbent = evaluate(corpus, {MODEL: Contender(scorer)}, None, rounds=0)
    return judge(metrics["evaluations"], incumbent)


def evaluate_committed(
    data_dir: Path,
    artifacts_dir: Path,
    *,
    peer: bool = True,
    source_loader: Callable[[], Sequence[SourceName]] = read_sources,
) -> dict[str, Any]:
    """``make evaluate``: re-score the committed artifact on the sets its config defines.

    The split and the extra sources follow the config recorded in the manifest, so the numbers
    are those ``make train`` reported (or show how the artifact fares on today's data). Rewrites
    ``metrics.json``'s evaluations and headline, keeping its training and parity records, and the
    manifest's figures (what ``GET /model`` serves), so the two never disagree.
    """
    manifest = load_manifest(artifacts_dir)
    recorded = manifest.training.get("config", {})
    known = {name for name in TrainingConfig.__dataclass_fields__ if name in recorded}
    config = TrainingConfig(**{name: recorded[name] for name in known})
    _, corpus = load_corpus(data_dir, config, source_loader)
    report, figures = evaluate_artifact(artifacts_dir, corpus, peer=peer)
    path = artifacts_dir / METRICS_FILE
    previous = json.loads(path.read_text("utf-8")) if path.exists() else {}
    document = metrics_document(manifest, corpus, report, figures, None)
    if "parity" in previous:
        document["parity"] = previous["parity"]
    kept = {k: v for k, v in manifest.metrics.items() if k == "parity_max_abs_difference"}
    write_manifest(manifest.model_copy(update={"metrics": {**figures, **kept}}), artifacts_dir)
    load_manifest(artifacts_dir)  # the written pair must load the way serving loads it
    path.write_text(json.dumps(document, indent=2) + "\n", "utf-8")
    return document
