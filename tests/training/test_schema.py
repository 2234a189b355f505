"""artifacts/manifest.schema.json stays generated from the Manifest model, and fits the manifest."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from training.schema import SCHEMA_FILE, manifest_schema_text, write_schema


def test_committed_schema_is_in_sync_with_the_manifest_model(committed_model_dir: Path) -> None:
    committed = (committed_model_dir / SCHEMA_FILE).read_text(encoding="utf-8")
    assert committed == manifest_schema_text(), "regenerate it: python -m training.schema"


def test_committed_manifest_validates_against_the_schema(committed_model_dir: Path) -> None:
    schema = json.loads((committed_model_dir / SCHEMA_FILE).read_text(encoding="utf-8"))
    manifest = json.loads((committed_model_dir / "manifest.json").read_text(encoding="utf-8"))
    jsonschema.validate(manifest, schema)


def test_schema_rejects_an_unknown_field(committed_model_dir: Path) -> None:
    schema = json.loads(manifest_schema_text())
    manifest = json.loads((committed_model_dir / "manifest.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    assert not validator.is_valid({**manifest, "surprise": 1})


def test_write_schema_writes_the_generated_text(tmp_path: Path) -> None:
    assert write_schema(tmp_path).read_text(encoding="utf-8") == manifest_schema_text()
