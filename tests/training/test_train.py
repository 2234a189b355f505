"""Training: batching helpers, class tempering, determinism and that a tiny model learns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from nameorigin.core.encoding import CharacterEncoder
from nameorigin.core.normalization import DEFAULT_RULE
from training.data import load_names
from training.split import split_dataset
from training.train import (
    TrainingConfig,
    TrainingResult,
    batch_order,
    length_bucketed_batches,
    predict_logits,
    tempered_class_weights,
    train,
)


def _train_tiny(data_dir: Path, config: TrainingConfig) -> tuple[TrainingResult, float]:
    dataset = load_names(data_dir)
    split = split_dataset(dataset.targets, test_fraction=0.2, validation_fraction=0.2)
    encoder = CharacterEncoder(DEFAULT_RULE.alphabet)
    tokens, lengths = encoder.encode(dataset.names)
    result = train(
        config,
        tokens,
        lengths,
        dataset.targets,
        split.train,
        split.validation,
        encoder.vocabulary_size,
        len(dataset.labels),
        progress=False,
    )
    logits = predict_logits(result.model, tokens[split.test], lengths[split.test])
    accuracy = float((logits.argmax(1).numpy() == dataset.targets[split.test]).mean())
    return result, accuracy


def test_tiny_model_learns_the_endings(tiny_data_dir: Path, tiny_config: TrainingConfig) -> None:
    result, accuracy = _train_tiny(tiny_data_dir, tiny_config)
    assert accuracy >= 0.9
    assert len(result.history) == tiny_config.epochs
    assert result.history[-1].train_loss < result.history[0].train_loss


def test_same_seed_gives_the_same_weights(tiny_data_dir: Path, tiny_config: TrainingConfig) -> None:
    first, _ = _train_tiny(tiny_data_dir, tiny_config)
    second, _ = _train_tiny(tiny_data_dir, tiny_config)
    for a, b in zip(
        first.model.state_dict().values(), second.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)


def test_ensemble_has_one_member_per_seed(tiny_data_dir: Path, tiny_config: TrainingConfig) -> None:
    config = TrainingConfig(**{**tiny_config.to_dict(), "members": 2, "epochs": 2})
    result, _ = _train_tiny(tiny_data_dir, config)
    assert len(result.model.members) == 2
    assert len(result.best_epochs) == 2
    first, second = (m.head.weight for m in result.model.members)  # type: ignore[union-attr]
    assert not torch.equal(first, second)


def test_early_stopping_stops_when_validation_stalls(
    tiny_data_dir: Path, tiny_config: TrainingConfig
) -> None:
    config = TrainingConfig(**{**tiny_config.to_dict(), "epochs": 40, "patience": 2})
    result, _ = _train_tiny(tiny_data_dir, config)
    assert len(result.history) < 40
    assert len(result.history) - result.best_epochs[0] == 2


def test_tempered_weights_favour_small_classes() -> None:
    targets = np.array([0] * 90 + [1] * 10)
    plain = tempered_class_weights(targets, 2, 0.0)
    tempered = tempered_class_weights(targets, 2, 0.5)
    assert np.allclose(plain, 1.0)
    assert tempered[1] / tempered[0] == np.float64(3.0)
    assert np.isclose(tempered[targets].mean(), 1.0)


def test_batch_order_is_a_permutation_or_a_tempered_resample() -> None:
    targets = np.array([0] * 90 + [1] * 10)
    shuffled = batch_order(targets, 2, 0.0, np.random.default_rng(0))
    assert sorted(shuffled.tolist()) == list(range(100))
    resampled = batch_order(targets, 2, 1.0, np.random.default_rng(0))
    minority_share = float((targets[resampled] == 1).mean())
    assert 0.35 < minority_share < 0.65


def test_length_buckets_cover_each_row_once_with_similar_lengths() -> None:
    generator = np.random.default_rng(0)
    lengths = generator.integers(1, 20, size=1000)
    order = generator.permutation(1000)
    batches = length_bucketed_batches(order, lengths, 16, generator)
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    assert all(len(batch) <= 16 for batch in batches)
    spreads = [int(np.ptp(lengths[batch])) for batch in batches]
    assert np.mean(spreads) <= 2
