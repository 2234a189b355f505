"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from nameorigin.config import REPOSITORY_MODEL_DIR
from nameorigin.core.classifier import Classifier

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def committed_model_dir() -> Path:
    """The model every fresh clone serves: ``artifacts/``."""
    return REPOSITORY_MODEL_DIR


@pytest.fixture(scope="session")
def classifier(committed_model_dir: Path) -> Classifier:
    """One classifier over the committed artifact, shared by the tests that only read from it."""
    return Classifier.load(committed_model_dir)
