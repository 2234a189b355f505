"""The pipeline's kfp components: each is a thin shell around one function of ``tasks``.

kfp ships a lightweight component's source alone into the container, so each body imports what it
needs; the code it calls comes from the component image (training/kubeflow/Dockerfile), or from
this checkout when ``make pipeline-local`` runs them in the project's venv. No component installs
packages at run time (``install_kfp_package=False``: the image has kfp from the pipeline extra).
No ``from __future__ import annotations`` here: kfp reads the annotations as types.
"""

# ruff: noqa: PLC0415 - kfp runs a component's source alone: its imports must be in its body

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import ClassificationMetrics, Dataset, Input, Metrics, Model, Output

#: The component image (training/kubeflow/Dockerfile; docs/kubeflow.md builds and pushes it).
IMAGE = "ghcr.io/nameorigin/nameorigin-training:0.1.0"


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def check_and_split(
    data_uri: str,
    config_json: str,
    endpoint_url: str,
    corpus: Output[Dataset],
    split: Output[Metrics],
) -> None:
    """Data check → name-aware split; the corpus every later step reads."""
    from pathlib import Path

    from training.kubeflow import tasks

    sizes = tasks.check_and_split(data_uri, config_json, Path(corpus.path), endpoint_url)
    for key, value in sizes.items():
        split.log_metric(key, value)


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def train_and_calibrate(
    corpus: Input[Dataset],
    config_json: str,
    threads: int,
    checkpoint: Output[Model],
    fitted: Output[Metrics],
) -> None:
    """Train → naive Bayes head → calibrate; a torch checkpoint for export and parity."""
    from pathlib import Path

    from training.kubeflow import tasks

    values = tasks.train_and_calibrate(
        Path(corpus.path), config_json, Path(checkpoint.path), threads
    )
    for key, value in values.items():
        fitted.log_metric(key, value)


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def export(
    corpus: Input[Dataset],
    checkpoint: Input[Model],
    config_json: str,
    threads: int,
    exported: Output[Model],
) -> str:
    """ONNX export → graph check → manifest; returns the model version."""
    from pathlib import Path

    from training.kubeflow import tasks

    version = tasks.export(
        Path(corpus.path), Path(checkpoint.path), config_json, threads, Path(exported.path)
    )
    exported.metadata["model_version"] = version
    return version


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def parity(
    corpus: Input[Dataset],
    checkpoint: Input[Model],
    exported: Input[Model],
    report: Output[Metrics],
    parity_report: Output[Dataset],
) -> None:
    """ONNX against torch on every held-out name; fails the run beyond the tolerance."""
    from pathlib import Path

    from training.kubeflow import tasks

    figures = tasks.parity(
        Path(corpus.path), Path(checkpoint.path), Path(exported.path), Path(parity_report.path)
    )
    for key, value in figures.items():
        report.log_metric(key, value)


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def evaluate(
    corpus: Input[Dataset],
    checkpoint: Input[Model],
    exported: Input[Model],
    parity_report: Input[Dataset],
    peer: bool,
    candidate: Output[Model],
    scores: Output[Metrics],
    confusion: Output[ClassificationMetrics],
) -> None:
    """Every evaluation set and baseline; the complete candidate, its metrics and confusion."""
    from pathlib import Path

    from training.kubeflow import tasks

    evaluation = tasks.evaluate(
        Path(corpus.path),
        Path(checkpoint.path),
        Path(exported.path),
        Path(parity_report.path),
        Path(candidate.path),
        peer=peer,
    )
    for key, value in evaluation.headline.items():
        scores.log_metric(key, value)
    confusion.log_confusion_matrix(evaluation.labels, evaluation.confusion)


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def gate(
    corpus: Input[Dataset],
    candidate: Input[Model],
    incumbent_uri: str,
    publish_uri: str,
    force: bool,
    endpoint_url: str,
) -> NamedTuple("Verdict", [("promote", bool), ("reason", str)]):  # type: ignore[valid-type]
    """The promotion gate: the candidate against the incumbent re-scored on the same sets."""
    from collections import namedtuple
    from pathlib import Path

    from training.kubeflow import tasks

    promote, reason = tasks.gate(
        Path(corpus.path),
        Path(candidate.path),
        incumbent_uri,
        publish_uri,
        force=force,
        endpoint_url=endpoint_url,
    )
    print(("promoted: " if promote else "not promoted: ") + reason, flush=True)
    verdict = namedtuple("verdict", ["promote", "reason"])
    return verdict(promote, reason)


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def publish(candidate: Input[Model], publish_uri: str, reason: str, endpoint_url: str) -> str:
    """Model, manifest and metrics to ``<publish_uri>/<model_version>/`` and ``…/latest/``."""
    from pathlib import Path

    from training.kubeflow import tasks

    return tasks.publish(Path(candidate.path), publish_uri, reason, endpoint_url)


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def refuse(reason: str) -> str:
    """The refused branch: nothing is published; the reason stays in the run's record."""
    print(f"not promoted: {reason}", flush=True)
    return reason
