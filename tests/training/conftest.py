"""A tiny, generated names data set and a tiny model config, so training tests run in seconds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.sources import SourceName
from training.train import TrainingConfig

#: Each fake language is recognizable by its ending, so even a tiny model learns it quickly.
ENDINGS = {"Alpha": "ov", "Beta": "son", "Gamma": "ez", "Delta": "ski"}
STEMS = ["bar", "cor", "dan", "fel", "gir", "hal", "kor", "lem", "mar", "nor", "pel", "ros"]


def write_names(data_dir: Path, per_label: int = 30, seed: int = 0) -> Path:
    """Write ``<Label>.txt`` files of ``per_label`` generated names each (plain UTF-8, LF)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    generator = np.random.default_rng(seed)
    for label, ending in ENDINGS.items():
        names = set()
        while len(names) < per_label:
            stem = "".join(generator.choice(STEMS, size=2))
            names.add((stem + ending).capitalize())
        (data_dir / f"{label}.txt").write_text("\n".join(sorted(names)) + "\n", encoding="utf-8")
    return data_dir


def tiny_sources(per_label: int = 60, seed: int = 1) -> list[SourceName]:
    """Extra names "from another source": same endings, three-stem names the data never has."""
    generator = np.random.default_rng(seed)
    names: list[SourceName] = []
    for label, ending in ENDINGS.items():
        chosen: set[str] = set()
        while len(chosen) < per_label:
            chosen.add(("".join(generator.choice(STEMS, size=3)) + ending).capitalize())
        names += [SourceName(name, label, "tiny:xx") for name in sorted(chosen)]
    return names


@pytest.fixture
def tiny_data_dir(tmp_path: Path) -> Path:
    """A fresh four-label data set (30 names per label) in a temporary folder."""
    return write_names(tmp_path / "names")


#: A model small and short enough to train in about a second, yet learn the tiny data.
TINY_CONFIG = TrainingConfig(
    embedding_dim=8,
    hidden_size=16,
    dropout=0.0,
    epochs=12,
    batch_size=16,
    learning_rate=0.03,
    patience=0,
    members=1,
    ngram_dim=4,
    ngram_buckets=1024,
    ngram_learning_rate=0.03,
    class_weight_power=0.5,
    init_candidates=2,  # the pipeline tests exercise the choice between inits
)


@pytest.fixture
def tiny_config() -> TrainingConfig:
    """See :data:`TINY_CONFIG`."""
    return TINY_CONFIG
