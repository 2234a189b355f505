"""The manifest is the contract between training and serving: a broken one must never load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from nameorigin.core.manifest import (
    MANIFEST_FILE,
    ArtifactError,
    Manifest,
    load_manifest,
    sha256_of_file,
    write_manifest,
)
from nameorigin.core.normalization import NormalizationRule


@pytest.fixture
def artifact_copy(committed_model_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(committed_model_dir, target)
    return target


def test_committed_manifest_loads_and_matches_its_model(committed_model_dir: Path) -> None:
    manifest = load_manifest(committed_model_dir)
    assert manifest.model_sha256 == sha256_of_file(committed_model_dir / manifest.model_file)
    assert len(manifest.labels) == 18
    assert isinstance(manifest.rule, NormalizationRule)


def test_write_then_load_round_trips(artifact_copy: Path) -> None:
    manifest = load_manifest(artifact_copy)
    (artifact_copy / MANIFEST_FILE).unlink()
    write_manifest(manifest, artifact_copy)
    assert load_manifest(artifact_copy) == manifest


def test_tampered_model_is_refused(artifact_copy: Path) -> None:
    with (artifact_copy / "model.onnx").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ArtifactError, match="sha256"):
        load_manifest(artifact_copy)


def test_missing_model_file_is_refused(artifact_copy: Path) -> None:
    (artifact_copy / "model.onnx").unlink()
    with pytest.raises(ArtifactError, match="does not exist"):
        load_manifest(artifact_copy)


def test_missing_manifest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="no manifest"):
        load_manifest(tmp_path)


def test_invalid_json_is_refused(artifact_copy: Path) -> None:
    (artifact_copy / MANIFEST_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(ArtifactError, match="invalid manifest"):
        load_manifest(artifact_copy)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("labels", ["English", "English"]),
        ("inputs", [{"name": "x", "dtype": "int64", "shape": ["batch"]}]),
        ("outputs", [{"name": "logits", "dtype": "float32", "shape": ["batch", 18]}]),
        ("model_sha256", "not-a-digest"),
        (
            "normalization",
            {"alphabet": "é", "unicode_form": "NFKD", "lowercase": True, "transliterations": {}},
        ),
        ("unexpected_field", 1),
    ],
)
def test_schema_violations_are_refused(artifact_copy: Path, field: str, value: object) -> None:
    data = json.loads((artifact_copy / MANIFEST_FILE).read_text(encoding="utf-8"))
    data[field] = value
    (artifact_copy / MANIFEST_FILE).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ArtifactError, match="invalid manifest"):
        load_manifest(artifact_copy)


def test_manifest_model_is_frozen(committed_model_dir: Path) -> None:
    manifest = load_manifest(committed_model_dir)
    with pytest.raises(ValueError, match="frozen"):
        manifest.labels = []  # type: ignore[misc]
    assert isinstance(manifest, Manifest)
