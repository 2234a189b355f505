"""The artifact's manifest: everything serving needs to know about the model, written by training.

Training writes it through this model and serving reads it through the same model, so the file's
schema is defined once (``artifacts/manifest.schema.json`` is generated from it).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nameorigin.core.normalization import NormalizationRule

MANIFEST_FILE = "manifest.json"
SCHEMA_VERSION = 1

#: The graph's interface; the exporter must produce exactly these and serving feeds exactly these.
TOKENS_INPUT = "tokens"
LENGTHS_INPUT = "lengths"
LOG_PROBABILITIES_OUTPUT = "log_probabilities"


class ArtifactError(RuntimeError):
    """The model artifact is missing, corrupted or inconsistent with its manifest."""


class TensorSpec(BaseModel):
    """One named graph input or output; symbolic dimensions are strings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    dtype: Literal["int64", "float32"]
    shape: list[int | str]


class Manifest(BaseModel):
    """Describes ``model.onnx``: labels in output order, input rule, interface, provenance."""

    model_config = ConfigDict(frozen=True, extra="forbid", protected_namespaces=())

    schema_version: Literal[1] = 1
    model_version: str = Field(min_length=1)
    created_at: datetime
    model_file: str = "model.onnx"
    model_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    data_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    labels: list[str] = Field(min_length=2)
    normalization: dict[str, Any]
    max_name_length: int = Field(gt=0)
    opset: int = Field(gt=0)
    temperature: float = Field(gt=0)
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    metrics: dict[str, Any]
    training: dict[str, Any] = Field(default_factory=dict)

    @field_validator("labels")
    @classmethod
    def _labels_unique(cls, labels: list[str]) -> list[str]:
        if len(set(labels)) != len(labels):
            raise ValueError("labels must be unique")
        return labels

    @model_validator(mode="after")
    def _interface_is_the_served_one(self) -> Manifest:
        input_names = [spec.name for spec in self.inputs]
        output_names = [spec.name for spec in self.outputs]
        if input_names != [TOKENS_INPUT, LENGTHS_INPUT]:
            raise ValueError(f"inputs must be {[TOKENS_INPUT, LENGTHS_INPUT]}, got {input_names}")
        if output_names != [LOG_PROBABILITIES_OUTPUT]:
            raise ValueError(f"outputs must be {[LOG_PROBABILITIES_OUTPUT]}, got {output_names}")
        NormalizationRule.from_manifest(self.normalization)  # fails loudly on a bad rule
        return self

    @property
    def rule(self) -> NormalizationRule:
        """The normalization rule training used."""
        return NormalizationRule.from_manifest(self.normalization)


def sha256_of_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_manifest(model_dir: Path) -> Manifest:
    """Read and validate ``model_dir/manifest.json``; check the model file's sha256 against it."""
    path = model_dir / MANIFEST_FILE
    try:
        manifest = Manifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError as error:
        raise ArtifactError(f"no manifest at {path}") from error
    except (json.JSONDecodeError, ValidationError) as error:
        raise ArtifactError(f"invalid manifest {path}: {error}") from error
    model_path = model_dir / manifest.model_file
    if not model_path.is_file():
        raise ArtifactError(f"manifest names {manifest.model_file} but {model_path} does not exist")
    actual = sha256_of_file(model_path)
    if actual != manifest.model_sha256:
        raise ArtifactError(
            f"{model_path} has sha256 {actual}, the manifest expects {manifest.model_sha256}"
        )
    return manifest


def write_manifest(manifest: Manifest, model_dir: Path) -> Path:
    """Write the manifest as stable, human-readable JSON."""
    path = model_dir / MANIFEST_FILE
    path.write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return path
