"""The Kubeflow steps in one process on tiny data: the same candidate and verdict as make train."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import boto3
import pytest
from support import moto_server

from nameorigin.core.classifier import Classifier
from nameorigin.core.manifest import load_manifest
from training.kubeflow import store, tasks
from training.kubeflow.handoff import load_corpus_file
from training.pipeline import PipelineOptions, PromotionRefusedError, run_pipeline
from training.train import TrainingConfig

from .conftest import TINY_CONFIG, write_names
from .test_pipeline import _options

#: Tiny, and without the extra sources (their labels are not the tiny data's anyway).
CONFIG = replace(TINY_CONFIG, extra_sources=False)
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
WORSE = replace(CONFIG, epochs=1, learning_rate=1e-6, hidden_size=2, ngram_dim=0)


def _json(config: TrainingConfig) -> str:
    return json.dumps(config.to_dict())


def _candidate(root: Path, data_dir: Path, config: TrainingConfig) -> Path:
    """Every step before the gate, as the components chain them; the candidate folder."""
    corpus, checkpoint = root / "corpus.pickle", root / "checkpoint.pt"
    sizes = tasks.check_and_split(str(data_dir), _json(config), corpus)
    assert sizes["labels"] == 4
    assert sizes["train"] + sizes["validation"] + sizes["tutorial_test"] == sizes["examples"]
    fitted = tasks.train_and_calibrate(corpus, _json(config), checkpoint, threads=1)
    assert fitted["temperature"] > 0
    version = tasks.export(corpus, checkpoint, _json(config), 1, root / "exported")
    assert load_manifest(root / "exported").model_version == version
    figures = tasks.parity(corpus, checkpoint, root / "exported", root / "parity.json")
    assert figures["max_abs_difference"] <= 1e-4
    evaluation = tasks.evaluate(
        corpus, checkpoint, root / "exported", root / "parity.json", root / "candidate", peer=False
    )
    assert len(evaluation.confusion) == len(evaluation.labels) == 4
    assert sum(map(sum, evaluation.confusion)) == sizes["tutorial_test"]
    assert evaluation.headline["tutorial_test_ece"] >= 0
    return root / "candidate"


@pytest.fixture(scope="module")
def incumbent(tmp_path_factory: pytest.TempPathFactory) -> PipelineOptions:
    """``make train``'s pipeline on the tiny data: the artifact both gates compare with."""
    root = tmp_path_factory.mktemp("incumbent")
    options = _options(root, write_names(root / "names"), CONFIG)
    assert run_pipeline(options).verdict.promote
    return options


def test_the_steps_rebuild_make_trains_candidate(
    tmp_path: Path, incumbent: PipelineOptions
) -> None:
    candidate = _candidate(tmp_path, incumbent.data_dir, CONFIG)

    ours = json.loads((candidate / "metrics.json").read_text())
    theirs = json.loads((incumbent.artifacts_dir / "metrics.json").read_text())
    assert ours["headline"] == theirs["headline"]
    assert ours["evaluations"]["tutorial_test"] == theirs["evaluations"]["tutorial_test"]
    assert {path.name for path in candidate.iterdir()} == {
        path.name for path in incumbent.artifacts_dir.iterdir()
    }
    promote, reason = tasks.gate(
        tmp_path / "corpus.pickle", candidate, str(incumbent.artifacts_dir), "", force=False
    )
    assert promote, reason
    assert run_pipeline(replace(incumbent, work_dir=tmp_path / "work")).verdict.promote


def test_a_worse_candidate_is_refused_as_make_train_refuses_it(
    tmp_path: Path, incumbent: PipelineOptions
) -> None:
    candidate = _candidate(tmp_path, incumbent.data_dir, WORSE)
    corpus = tmp_path / "corpus.pickle"

    promote, reason = tasks.gate(corpus, candidate, str(incumbent.artifacts_dir), "", force=False)

    assert not promote
    assert "worse" in reason
    worse = replace(incumbent, config=WORSE, work_dir=tmp_path / "work")
    with pytest.raises(PromotionRefusedError, match="worse"):
        run_pipeline(worse)
    assert tasks.gate(corpus, candidate, str(incumbent.artifacts_dir), "", force=True) == (
        True,
        "forced",
    )


def test_publish_writes_the_version_and_latest_and_the_next_gate_reads_latest(
    tmp_path: Path, incumbent: PipelineOptions
) -> None:
    store_dir = tmp_path / "store"
    published = tasks.publish(incumbent.artifacts_dir, str(store_dir), "first")

    version = load_manifest(incumbent.artifacts_dir).model_version
    assert Path(published) == store_dir / version
    for folder in (store_dir / version, store_dir / tasks.LATEST):
        Classifier.load(folder)
        assert json.loads((folder / tasks.VERDICT_FILE).read_text())["reason"] == "first"
    corpus = tmp_path / "corpus.pickle"
    tasks.check_and_split(str(incumbent.data_dir), _json(CONFIG), corpus)
    worse = _candidate(tmp_path / "worse", incumbent.data_dir, WORSE)
    promote, _ = tasks.gate(corpus, worse, "", str(store_dir), force=False)
    assert not promote  # compared with <store>/latest, not with "no incumbent"
    _, split = load_corpus_file(corpus)
    assert split.labels == tuple(load_manifest(store_dir / "latest").labels)


def test_unknown_config_fields_are_refused() -> None:
    with pytest.raises(ValueError, match="epoch"):
        tasks.training_config('{"epoch": 3}')
    assert tasks.training_config('{"epochs": 3}').epochs == 3


def test_publish_and_read_back_through_an_s3_endpoint(
    tmp_path: Path, incumbent: PipelineOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable, value in {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(variable, value)
    with moto_server() as endpoint:
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="models")
        uri = tasks.publish(incumbent.artifacts_dir, "s3://models/nameorigin", "ok", endpoint)

        version = load_manifest(incumbent.artifacts_dir).model_version
        assert uri == f"s3://models/nameorigin/{version}"
        with store.local_folder("s3://models/nameorigin/latest", endpoint) as folder:
            assert folder is not None
            assert Classifier.load(folder).manifest.model_version == version
        with store.local_folder("s3://models/nameorigin/none", endpoint) as folder:
            assert folder is None


@pytest.mark.slow
def test_the_kfp_local_runner_runs_the_compiled_graph_to_the_same_verdict(
    tmp_path: Path, incumbent: PipelineOptions
) -> None:
    """The whole pipeline through kfp's local runner (each component a subprocess of this venv)."""
    store_dir, runs = tmp_path / "store", tmp_path / "runs"
    command = [
        sys.executable,
        "-m",
        "training.kubeflow.local",
        f"--data-dir={incumbent.data_dir}",
        f"--incumbent={incumbent.artifacts_dir}",
        f"--publish-uri={store_dir}",
        f"--pipeline-root={runs}",
        f"--config={_json(CONFIG)}",
        "--no-peer",
        "--threads=1",
        "--expect=promoted",
    ]
    finished = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=600, cwd=REPOSITORY_ROOT
    )

    assert finished.returncode == 0, finished.stderr[-3000:]
    outcome = json.loads(finished.stdout.strip().splitlines()[-1])
    assert outcome["verdict"] == "promoted"
    assert "at least as good" in outcome["reason"]  # judged against the incumbent, as make train
    published = Classifier.load(store_dir / tasks.LATEST)
    assert (store_dir / published.manifest.model_version / "metrics.json").is_file()
    (run,) = runs.iterdir()
    evaluated = json.loads((run / "evaluate" / "executor_output.json").read_text())
    matrix = evaluated["artifacts"]["confusion"]["artifacts"][0]["metadata"]["confusionMatrix"]
    assert [spec["displayName"] for spec in matrix["annotationSpecs"]] == list(published.labels)
    tutorial_test = json.loads((store_dir / tasks.LATEST / "metrics.json").read_text())["split"]
    assert sum(sum(row["row"]) for row in matrix["rows"]) == tutorial_test["tutorial"]["test"]
    assert not (run / "evaluate" / "candidate" / tasks.VERDICT_FILE).exists()
