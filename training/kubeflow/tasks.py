"""Each pipeline step as the components run it: artifact paths in, artifact paths out.

A task reads its inputs, calls the step function of :mod:`training.pipeline` that ``make train``
calls too, writes its outputs, and returns the figures the component logs as kfp metrics. There is
no training logic here, only the hand-over between steps that run in separate containers.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nameorigin.core.manifest import load_manifest
from training.data import DataError
from training.export import ParityReport
from training.kubeflow import store
from training.kubeflow.handoff import load_corpus_file, load_trained, save_corpus, save_trained
from training.pipeline import (
    METRICS_FILE,
    MODEL_FILE,
    check_candidate_parity,
    export_candidate,
    judge_against,
    load_corpus,
    score_candidate,
    train_candidate,
    training_record,
)
from training.sources import read_sources
from training.train import TrainingConfig

#: Where publish puts the newest promoted model, beside ``<model_version>/``; the next run's
#: default incumbent.
LATEST = "latest"
VERDICT_FILE = "verdict.json"


def training_config(config_json: str) -> TrainingConfig:
    """The defaults of :class:`TrainingConfig` with the pipeline parameter's overrides."""
    overrides: dict[str, Any] = json.loads(config_json or "{}")
    known = {field.name for field in fields(TrainingConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown training config fields: {', '.join(unknown)}")
    return replace(TrainingConfig(), **overrides)


def check_and_split(
    data_uri: str, config_json: str, corpus_path: Path, endpoint_url: str = ""
) -> dict[str, float]:
    """Data check and name-aware split (``load_corpus``); the split's sizes."""
    config = training_config(config_json)
    with store.local_folder(data_uri, endpoint_url) as data_dir:
        if data_dir is None:
            raise DataError(f"no names data at {data_uri}")
        dataset, corpus = load_corpus(data_dir, config, read_sources)
    save_corpus(corpus_path, dataset, corpus)
    return {
        "lines_read": dataset.lines_read,
        "examples": len(dataset),
        "labels": len(dataset.labels),
        "train": len(corpus.train),
        "validation": len(corpus.validation),
        "tutorial_test": len(corpus.tutorial_test),
        "cross_source_test": len(corpus.cross_source_test),
    }


def train_and_calibrate(
    corpus_path: Path, config_json: str, checkpoint_path: Path, threads: int
) -> dict[str, float]:
    """Train, fit the naive Bayes head, calibrate (``train_candidate``); the fitted values."""
    torch.set_num_threads(threads)
    _, corpus = load_corpus_file(corpus_path)
    trained = train_candidate(corpus, training_config(config_json), progress=False)
    save_trained(checkpoint_path, trained)
    return {
        "seconds": round(trained.seconds, 1),
        "naive_bayes_weight": trained.naive_bayes_weight,
        "prior_adjustment": trained.calibration.prior_adjustment,
        "temperature": trained.calibration.temperature,
    }


def export(
    corpus_path: Path, checkpoint_path: Path, config_json: str, threads: int, candidate_dir: Path
) -> str:
    """ONNX export, graph check and manifest (``export_candidate``); the model version."""
    dataset, corpus = load_corpus_file(corpus_path)
    trained = load_trained(checkpoint_path)
    record = training_record(trained, dataset, corpus, training_config(config_json), threads)
    candidate_dir.mkdir(parents=True, exist_ok=True)
    return export_candidate(trained, dataset, corpus, candidate_dir, record).model_version


def parity(
    corpus_path: Path, checkpoint_path: Path, candidate_dir: Path, parity_path: Path
) -> dict[str, float]:
    """ONNX against torch on every held-out name (``check_candidate_parity``); the report."""
    _, corpus = load_corpus_file(corpus_path)
    report = check_candidate_parity(load_trained(checkpoint_path), candidate_dir, corpus)
    figures = asdict(report)
    parity_path.parent.mkdir(parents=True, exist_ok=True)
    parity_path.write_text(json.dumps(figures) + "\n", "utf-8")
    return {key: float(value) for key, value in figures.items()}


@dataclass(frozen=True)
class Evaluation:
    """What the evaluate component logs: headline figures and the tutorial-test confusion."""

    headline: dict[str, float]
    labels: list[str]
    confusion: list[list[int]]


def evaluate(
    corpus_path: Path,
    checkpoint_path: Path,
    exported_dir: Path,
    parity_path: Path,
    candidate_dir: Path,
    *,
    peer: bool,
) -> Evaluation:
    """Every evaluation set, baseline and the peer (``score_candidate``) into a full candidate."""
    _, corpus = load_corpus_file(corpus_path)
    history = load_trained(checkpoint_path).history
    report = ParityReport(**json.loads(parity_path.read_text("utf-8")))
    shutil.copytree(exported_dir, candidate_dir, dirs_exist_ok=True)
    scored = score_candidate(candidate_dir, corpus, report, history, peer=peer)
    # The KFP UI shows counts: the row-normalized matrix times each true class's size.
    totals = np.bincount(corpus.tutorial_test.targets, minlength=len(corpus.labels))
    counts = np.rint(scored.confusion * totals[:, None]).astype(np.int64)
    return Evaluation(
        headline=dict(scored.metrics["headline"]),
        labels=list(corpus.labels),
        confusion=counts.tolist(),
    )


def gate(
    corpus_path: Path,
    candidate_dir: Path,
    incumbent_uri: str,
    publish_uri: str,
    *,
    force: bool,
    endpoint_url: str = "",
) -> tuple[bool, str]:
    """The promotion gate (``judge_against``): the candidate against the incumbent re-scored.

    The incumbent is ``incumbent_uri`` or, if empty, the newest model published to
    ``publish_uri``; no incumbent there means promote.
    """
    if force:
        return True, "forced"
    _, corpus = load_corpus_file(corpus_path)
    metrics = json.loads((candidate_dir / METRICS_FILE).read_text("utf-8"))
    uri = incumbent_uri or store.join(publish_uri, LATEST)
    with store.local_folder(uri, endpoint_url) as incumbent_dir:
        verdict = judge_against(corpus, metrics, incumbent_dir)
    return verdict.promote, verdict.reason


def publish(candidate_dir: Path, publish_uri: str, reason: str, endpoint_url: str = "") -> str:
    """Write the promoted model, manifest and metrics to ``<uri>/<model_version>/`` and ``latest``.

    The verdict goes beside them (the input artifact itself is left as it is); returns the
    version's URI.
    """
    manifest = load_manifest(candidate_dir)
    if not (candidate_dir / MODEL_FILE).is_file():
        raise FileNotFoundError(f"{candidate_dir} has no {MODEL_FILE}")
    verdict = {
        "model_version": manifest.model_version,
        "promoted": True,
        "reason": reason,
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    with tempfile.TemporaryDirectory(prefix="nameorigin-publish-") as scratch:
        folder = Path(scratch) / "model"
        shutil.copytree(candidate_dir, folder)
        (folder / VERDICT_FILE).write_text(json.dumps(verdict, indent=2) + "\n", "utf-8")
        version_uri = store.join(publish_uri, manifest.model_version)
        store.upload_folder(folder, version_uri, endpoint_url)
        store.upload_folder(folder, store.join(publish_uri, LATEST), endpoint_url)
    return version_uri
