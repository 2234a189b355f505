"""Training: soft targets, class weights, determinism, the n-gram bag, a tiny model learns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from nameorigin.core.encoding import CharacterEncoder
from nameorigin.core.normalization import DEFAULT_RULE
from training.corpus import Corpus, Pairs, build_corpus
from training.data import load_names
from training.model import CharacterNgramBag
from training.train import (
    TrainingConfig,
    TrainingResult,
    class_weights,
    distilled,
    encode_training_names,
    length_bucketed_batches,
    names_logits,
    train,
)

from .conftest import tiny_sources

ENCODER = CharacterEncoder(DEFAULT_RULE.alphabet)


def _train_tiny(data_dir: Path, config: TrainingConfig) -> tuple[TrainingResult, float, Corpus]:
    dataset = load_names(data_dir)
    corpus = build_corpus(dataset, tiny_sources())
    result = train(config, corpus.train, corpus.validation, ENCODER, corpus.labels, progress=False)
    test = corpus.cross_source_test
    logits = names_logits(result.model, ENCODER, list(test.names))
    accuracy = float((logits.argmax(1).numpy() == test.targets).mean())
    return result, accuracy, corpus


def test_tiny_model_learns_the_endings(tiny_data_dir: Path, tiny_config: TrainingConfig) -> None:
    result, accuracy, _ = _train_tiny(tiny_data_dir, tiny_config)
    assert accuracy >= 0.9
    assert len(result.history) == tiny_config.epochs
    assert result.history[-1].train_loss < result.history[0].train_loss
    assert result.model.members[0].ngrams is not None  # type: ignore[union-attr]


def test_same_seed_gives_the_same_weights(tiny_data_dir: Path, tiny_config: TrainingConfig) -> None:
    first, _, _ = _train_tiny(tiny_data_dir, tiny_config)
    second, _, _ = _train_tiny(tiny_data_dir, tiny_config)
    for a, b in zip(
        first.model.state_dict().values(), second.model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)


def test_weight_averaging_keeps_the_averaged_weights(
    tiny_data_dir: Path, tiny_config: TrainingConfig
) -> None:
    # Same seed, same batches: only the averaging differs, so the kept weights must differ,
    # and the averaged model must still have learned the endings.
    config = TrainingConfig(**{**tiny_config.to_dict(), "patience": 0})
    plain, _, _ = _train_tiny(tiny_data_dir, config)
    averaged, accuracy, _ = _train_tiny(
        tiny_data_dir, TrainingConfig(**{**config.to_dict(), "weight_average_decay": 0.9})
    )
    assert accuracy >= 0.9
    differs = [
        not torch.equal(a, b)
        for a, b in zip(
            plain.model.state_dict().values(), averaged.model.state_dict().values(), strict=True
        )
        if a.is_floating_point()
    ]
    assert any(differs)
    assert [r.train_loss for r in plain.history] == [r.train_loss for r in averaged.history]


def test_ensemble_has_one_member_per_seed(tiny_data_dir: Path, tiny_config: TrainingConfig) -> None:
    config = TrainingConfig(**{**tiny_config.to_dict(), "members": 2, "epochs": 2})
    result, _, _ = _train_tiny(tiny_data_dir, config)
    assert len(result.model.members) == 2
    assert len(result.best_epochs) == 2
    first, second = (m.head.weight for m in result.model.members)  # type: ignore[union-attr]
    assert not torch.equal(first, second)


def test_a_distilled_student_ships_alone_after_its_teachers(
    tiny_data_dir: Path, tiny_config: TrainingConfig
) -> None:
    config = TrainingConfig(**{**tiny_config.to_dict(), "teachers": 2, "epochs": 2})
    result, accuracy, _ = _train_tiny(tiny_data_dir, config)
    assert len(result.model.members) == 1  # only the student is served
    assert sorted({record.member for record in result.history}) == [0, 1, 2]  # teachers 1, 2
    assert accuracy >= 0.5


def test_distilled_targets_mix_labels_and_teacher_probabilities(
    tiny_data_dir: Path, tiny_config: TrainingConfig
) -> None:
    teachers, _, corpus = _train_tiny(tiny_data_dir, tiny_config)
    encoded = encode_training_names(corpus.train, ENCODER, len(corpus.labels), 0.5)
    teacher = torch.softmax(
        names_logits(teachers.model, ENCODER, corpus.train.soft_targets(len(corpus.labels))[0]), 1
    ).numpy()
    quarter = distilled(encoded, teachers.model, 0.25)
    np.testing.assert_allclose(quarter.targets, 0.75 * encoded.targets + 0.25 * teacher, atol=1e-6)
    np.testing.assert_allclose(quarter.targets.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(quarter.weights, encoded.weights)  # the labels' class weights
    np.testing.assert_array_equal(distilled(encoded, teachers.model, 0.0).targets, encoded.targets)


def test_early_stopping_stops_when_validation_stalls(
    tiny_data_dir: Path, tiny_config: TrainingConfig
) -> None:
    config = TrainingConfig(**{**tiny_config.to_dict(), "epochs": 40, "patience": 2})
    result, _, _ = _train_tiny(tiny_data_dir, config)
    assert len(result.history) < 40
    assert len(result.history) - result.best_epochs[0] == 2


def test_class_weights_favour_small_classes() -> None:
    targets = np.eye(2, dtype=np.float32)[[0] * 90 + [1] * 10]
    plain = class_weights(targets, 0.0)
    tempered = class_weights(targets, 0.5)
    assert np.allclose(plain, 1.0)
    assert tempered[1] / tempered[0] == np.float64(3.0)
    assert np.isclose((targets @ tempered).mean(), 1.0)


def test_a_name_with_two_labels_trains_once_with_split_mass() -> None:
    pairs = Pairs.of([("abel", 0), ("abel", 1), ("smith", 0)])
    encoded = encode_training_names(pairs, ENCODER, 2, 0.0)
    assert len(encoded) == 2
    assert encoded.targets.tolist() == [[0.5, 0.5], [1.0, 0.0]]


def test_ngram_bag_ignores_padding_and_counts_every_window() -> None:
    bag = CharacterNgramBag(ENCODER.vocabulary_size, dim=3, buckets=97)
    tokens, lengths = ENCODER.encode(["ab", "kuznetsova"])
    tokens_t, lengths_t = torch.from_numpy(tokens).long(), torch.from_numpy(lengths).long()
    ids = bag.bucket_ids(tokens_t, lengths_t)
    valid = (ids != bag.buckets).sum(dim=(1, 2))
    assert valid.tolist() == bag.windows(lengths_t).tolist()
    padded = torch.nn.functional.pad(tokens_t, (0, 5))
    with torch.no_grad():
        assert torch.allclose(bag(tokens_t, lengths_t), bag(padded, lengths_t))


def test_length_buckets_cover_each_row_once_with_similar_lengths() -> None:
    generator = np.random.default_rng(0)
    lengths = generator.integers(1, 20, size=1000)
    order = generator.permutation(1000)
    batches = length_bucketed_batches(order, lengths, 16, generator)
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    assert all(len(batch) <= 16 for batch in batches)
    spreads = [int(np.ptp(lengths[batch])) for batch in batches]
    assert np.mean(spreads) <= 2
