"""Minibatch training of the char-RNN (+ n-gram bag) with early stopping on validation.

Everything that changes the result is in :class:`TrainingConfig` (recorded in the manifest), and
every random choice is seeded from it, so the same config on the same data gives the same model.
Names filed under several labels train once, with the probability mass split over their labels
(soft targets) instead of as contradictory hard examples. Classes are weighted by
``count ** -class_weight_power`` so that small languages are not drowned by Russian and English.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm  # type: ignore[import-untyped]

from nameorigin.core.encoding import CharacterEncoder
from training.corpus import Pairs
from training.metrics import labelled_set, score
from training.model import NameClassifier, NameClassifierEnsemble
from training.validation import ALL_FIGURES, SourceBalancedObjective, source_balanced_objective

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]
EVALUATION_BATCH = 1024
POOL_BATCHES = 32
GRADIENT_CLIP = 5.0


#: ``TrainingConfig.prior_adjustment`` values that are not a τ.
UNIFORM_PRIOR = -1.0
TUNED_PRIOR = -2.0


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters; the defaults are the promoted model's (see docs/training.md)."""

    embedding_dim: int = 32
    #: 96, not 128: as good on the evaluations (docs/training.md, experiments), ~20 % cheaper.
    hidden_size: int = 96
    num_layers: int = 1
    dropout: float = 0.3
    embedding_dropout: float = 0.1
    #: Width of the hashed character n-gram bag beside the GRU (0: GRU only).
    ngram_dim: int = 32
    #: 65,536, not 131,072: with the naive Bayes head reading the same buckets, the larger tables
    #: put model.onnx over the repository's 5 MB limit; measured in docs/training.md.
    ngram_buckets: int = 1 << 16
    ngram_learning_rate: float = 3e-3
    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 3e-3
    weight_decay: float = 0.05
    label_smoothing: float = 0.1
    #: Loss weight of a class ∝ count**-power (0: plain, 1: fully balanced). At 0.5 the loss
    #: still sees half of the tutorial's mix (better features for the big classes) and the
    #: post-hoc τ removes the rest of the prior; measured better on the tutorial test, equal on
    #: the cross-source set, against 1.0 (see docs/training.md).
    class_weight_power: float = 0.5
    schedule: Literal["onecycle", "cosine", "constant"] = "onecycle"
    #: Epochs without a better validation objective before stopping (0: never).
    patience: int = 8
    #: Independently seeded models averaged in one graph.
    members: int = 1
    #: Teachers for knowledge distillation (0: none). With N > 0, N seeded models are trained,
    #: and ``members`` students learn from their averaged probabilities mixed into the labels;
    #: only the students ship, so serving costs what a single model costs.
    teachers: int = 0
    #: Share of a student's target taken from the teachers (the rest: the name's own labels).
    distillation_weight: float = 0.5
    #: Add a hashed n-gram naive Bayes head, its weight tuned on validation (0 leaves it out of
    #: the graph). It makes different mistakes than the network, and the pair beats both
    #: baselines on top-1, top-3 and macro-F1 where the network alone did not (docs/training.md).
    naive_bayes_head: bool = True
    #: The figures the validation objective averages per source (``training.validation``):
    #: early stopping, the naive Bayes weight and τ all maximize it.
    selection_figures: str = ALL_FIGURES
    #: Post-hoc logit adjustment τ: logits - τ·log(train prior). ``UNIFORM_PRIOR``: the served
    #: prior is uniform over the labels (τ = 1 - class_weight_power), the documented product
    #: choice; ``TUNED_PRIOR``: τ is tuned on validation (whose mix then picks the prior).
    prior_adjustment: float = UNIFORM_PRIOR
    #: Decay of an exponential moving average of the weights, updated every step; validation
    #: judges (and the model keeps) the averaged weights. 0: the last step's weights, as before.
    weight_average_decay: float = 0.0
    #: Train on the extra licensed sources (training.sources) beside the tutorial data.
    extra_sources: bool = True
    #: Seeds the model's init and batch order.
    seed: int = 0
    #: Inits trained (seeds ``seed`` … ``seed + N - 1``), each with its naive Bayes head and
    #: calibration; the one with the best validation objective ships. How lucky an init is moves
    #: every test figure by about as much as most levers do (docs/training.md, the seed rows), so
    #: the choice is made on validation, never left to the seed or made on a test set.
    init_candidates: int = 3
    #: Seeds which names are held out (validation, tests); separate from ``seed`` so that models
    #: of different seeds are scored on the same names. Negative: the same as ``seed``.
    split_seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data for the manifest and metrics."""
        return asdict(self)


@dataclass
class EpochRecord:
    """What one epoch did, for the training-curves plot."""

    member: int
    epoch: int
    train_loss: float
    validation_loss: float
    validation_accuracy: float
    validation_macro_f1: float
    validation_balanced_accuracy: float
    #: The validation objective (``training.validation``): what early stopping keeps the best of.
    validation_objective: float


@dataclass
class TrainingResult:
    """The trained (uncalibrated) model and how training went."""

    model: NameClassifierEnsemble
    log_prior: torch.Tensor
    history: list[EpochRecord] = field(default_factory=list)
    best_epochs: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Encoded:
    """Distinct training names as tokens, with soft targets and per-example loss weights."""

    tokens: IntArray
    lengths: IntArray
    targets: FloatArray
    weights: FloatArray

    def __len__(self) -> int:
        return len(self.lengths)


def class_weights(targets: FloatArray, power: float) -> npt.NDArray[np.float64]:
    """Per-class loss weights ∝ count**-power, normalized to mean 1 over the examples."""
    counts = np.maximum(targets.sum(axis=0).astype(np.float64), 1.0)
    weights: npt.NDArray[np.float64] = counts**-power
    return weights / float((targets @ weights).mean())


def encode_training_names(
    pairs: Pairs, encoder: CharacterEncoder, num_labels: int, power: float
) -> Encoded:
    """Tokens, soft targets (a name's mass split over its labels) and class-tempered weights."""
    names, targets = pairs.soft_targets(num_labels)
    tokens, lengths = encoder.encode(names)
    weights = (targets @ class_weights(targets, power)).astype(np.float32)
    return Encoded(tokens.astype(np.int64), lengths.astype(np.int64), targets, weights)


def train_log_prior(encoded: Encoded) -> torch.Tensor:
    """log of the training classes' share (of the soft target mass)."""
    mass = np.maximum(encoded.targets.sum(axis=0).astype(np.float64), 1.0)
    return torch.from_numpy(np.log(mass / mass.sum())).float()


def length_bucketed_batches(
    order: IntArray, lengths: IntArray, batch_size: int, generator: np.random.Generator
) -> list[IntArray]:
    """Split an epoch's order into batches of similar-length names, in random batch order.

    Names are sorted by length inside pools of ``POOL_BATCHES`` batches, so a batch pads to
    little more than its own names (about twice as fast) while batches stay randomly composed.
    """
    batches: list[IntArray] = []
    pool_size = batch_size * POOL_BATCHES
    for start in range(0, len(order), pool_size):
        pool = order[start : start + pool_size]
        pool = pool[np.argsort(lengths[pool], kind="stable")]
        batches.extend(pool[i : i + batch_size] for i in range(0, len(pool), batch_size))
    return [batches[i] for i in generator.permutation(len(batches))]


def _batch(tokens: IntArray, lengths: IntArray, rows: IntArray) -> tuple[torch.Tensor, ...]:
    width = int(lengths[rows].max())
    return torch.from_numpy(tokens[rows, :width]), torch.from_numpy(lengths[rows])


def predict_logits(
    model: NameClassifier | NameClassifierEnsemble, tokens: IntArray, lengths: IntArray
) -> torch.Tensor:
    """Uncalibrated logits for every row, in eval mode and in large batches."""
    model.eval()
    parts = []
    with torch.no_grad():
        for start in range(0, len(lengths), EVALUATION_BATCH):
            rows = np.arange(start, min(start + EVALUATION_BATCH, len(lengths)))
            parts.append(model.logits(*_batch(tokens, lengths, rows)))
    return torch.cat(parts) if parts else torch.empty(0)


def names_logits(
    model: NameClassifier | NameClassifierEnsemble, encoder: CharacterEncoder, names: list[str]
) -> torch.Tensor:
    """Uncalibrated logits of raw (already normalized) names."""
    tokens, lengths = encoder.encode(names)
    return predict_logits(model, tokens.astype(np.int64), lengths.astype(np.int64))


def _schedulers(
    config: TrainingConfig, optimizers: list[torch.optim.Optimizer], steps_per_epoch: int
) -> list[torch.optim.lr_scheduler.LRScheduler]:
    total = config.epochs * steps_per_epoch
    schedulers: list[torch.optim.lr_scheduler.LRScheduler] = []
    for optimizer in optimizers:
        peak = float(optimizer.param_groups[0]["lr"])
        if config.schedule == "onecycle":
            schedulers.append(
                torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=peak, total_steps=total)
            )
        elif config.schedule == "cosine":
            schedulers.append(torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total))
        else:
            schedulers.append(torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0))
    return schedulers


def _optimizers(model: NameClassifier, config: TrainingConfig) -> list[torch.optim.Optimizer]:
    """AdamW for the dense weights; SparseAdam for the n-gram table (only touched rows move)."""
    sparse = [p for name, p in model.named_parameters() if name.startswith("ngrams.")]
    dense = [p for name, p in model.named_parameters() if not name.startswith("ngrams.")]
    optimizers: list[torch.optim.Optimizer] = [
        torch.optim.AdamW(dense, lr=config.learning_rate, weight_decay=config.weight_decay)
    ]
    if sparse:
        optimizers.append(torch.optim.SparseAdam(sparse, lr=config.ngram_learning_rate))
    return optimizers


def new_model(config: TrainingConfig, vocabulary_size: int, num_labels: int) -> NameClassifier:
    """An untrained member with the config's architecture."""
    return NameClassifier(
        vocabulary_size,
        num_labels,
        embedding_dim=config.embedding_dim,
        hidden_size=config.hidden_size,
        num_layers=config.num_layers,
        dropout=config.dropout,
        embedding_dropout=config.embedding_dropout,
        ngram_dim=config.ngram_dim,
        ngram_buckets=config.ngram_buckets,
    )


def _soft_cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor, smoothing: float
) -> torch.Tensor:
    if smoothing:
        targets = targets * (1 - smoothing) + smoothing / targets.shape[1]
    per_example = -(targets * torch.log_softmax(logits, dim=1)).sum(dim=1)
    return (per_example * weights).mean()


def train_member(
    config: TrainingConfig,
    member: int,
    encoded: Encoded,
    validation: Pairs,
    encoder: CharacterEncoder,
    labels: tuple[str, ...],
    objective: SourceBalancedObjective,
    *,
    progress: bool = True,
) -> tuple[NameClassifier, list[EpochRecord], int]:
    """Train one model; returns the state with the best validation objective (source-balanced)."""
    seed = config.seed + 1000 * member
    torch.manual_seed(seed)
    generator = np.random.default_rng(seed)
    model = new_model(config, encoder.vocabulary_size, len(labels))
    optimizers = _optimizers(model, config)
    dense_parameters = list(optimizers[0].param_groups[0]["params"])
    schedulers = _schedulers(config, optimizers, math.ceil(len(encoded) / config.batch_size))
    targets = torch.from_numpy(encoded.targets)
    weights = torch.from_numpy(encoded.weights)
    # Validation is judged at a uniform prior: what is left of the training prior after the
    # class weights is taken out, as the calibration step will do.
    residual_prior = (1.0 - config.class_weight_power) * train_log_prior(encoded)
    validation_set = labelled_set("validation", validation.names, validation.targets, len(labels))
    validation_targets = torch.from_numpy(validation.targets)
    averaged = (
        AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(config.weight_average_decay))  # type: ignore[no-untyped-call]
        if config.weight_average_decay
        else None
    )
    judged: NameClassifier = averaged.module if averaged is not None else model  # type: ignore[assignment]
    best_score, best_epoch, best_state = -1.0, 0, copy.deepcopy(model.state_dict())
    history: list[EpochRecord] = []
    bar = tqdm(range(1, config.epochs + 1), desc=f"member {member}", disable=not progress)
    for epoch in bar:
        model.train()
        total_loss = 0.0
        order = generator.permutation(len(encoded)).astype(np.int64)
        for rows in length_bucketed_batches(order, encoded.lengths, config.batch_size, generator):
            batch_tokens, batch_lengths = _batch(encoded.tokens, encoded.lengths, rows)
            index = torch.from_numpy(rows)
            loss = _soft_cross_entropy(
                model.logits(batch_tokens, batch_lengths),
                targets[index],
                weights[index],
                config.label_smoothing,
            )
            for optimizer in optimizers:
                optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            nn.utils.clip_grad_norm_(dense_parameters, GRADIENT_CLIP)
            for optimizer in optimizers:
                optimizer.step()
            for scheduler in schedulers:
                scheduler.step()
            if averaged is not None:
                averaged.update_parameters(model)
            total_loss += loss.item() * len(rows)
        logits = names_logits(judged, encoder, list(validation.names)) - residual_prior
        scores = score(logits.numpy(), validation_set, labels, any_label=True, rounds=0)
        record = EpochRecord(
            member=member,
            epoch=epoch,
            train_loss=total_loss / len(encoded),
            validation_loss=float(nn.functional.cross_entropy(logits, validation_targets)),
            validation_accuracy=scores["top1"],
            validation_macro_f1=scores["macro_f1"],
            validation_balanced_accuracy=scores["balanced_accuracy"],
            validation_objective=objective(logits.numpy()),
        )
        history.append(record)
        bar.set_postfix(
            loss=f"{record.train_loss:.3f}", val_objective=f"{record.validation_objective:.3f}"
        )
        if record.validation_objective > best_score:
            best_score, best_epoch = record.validation_objective, epoch
            best_state = copy.deepcopy(judged.state_dict())
        elif config.patience and epoch - best_epoch >= config.patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    return model, history, best_epoch


def train(
    config: TrainingConfig,
    train_pairs: Pairs,
    validation: Pairs,
    encoder: CharacterEncoder,
    labels: tuple[str, ...],
    *,
    objective: SourceBalancedObjective | None = None,
    progress: bool = True,
) -> TrainingResult:
    """Train ``config.members`` seeded models and average them in one ensemble module."""
    encoded = encode_training_names(train_pairs, encoder, len(labels), config.class_weight_power)
    members: list[NameClassifier] = []
    history: list[EpochRecord] = []
    best_epochs: list[int] = []
    objective = objective or source_balanced_objective(
        validation, {}, labels, config.selection_figures
    )
    student_data = encoded
    if config.teachers:
        teachers = [  # seeded apart from the students (members 0 … members-1)
            train_member(
                config,
                config.members + t,
                encoded,
                validation,
                encoder,
                labels,
                objective,
                progress=progress,
            )
            for t in range(config.teachers)
        ]
        for _, teacher_history, _ in teachers:
            history.extend(teacher_history)
        student_data = distilled(
            encoded, NameClassifierEnsemble([t for t, _, _ in teachers]), config.distillation_weight
        )
    for member in range(config.members):
        model, member_history, best_epoch = train_member(
            config,
            member,
            student_data,
            validation,
            encoder,
            labels,
            objective,
            progress=progress,
        )
        members.append(model)
        history.extend(member_history)
        best_epochs.append(best_epoch)
    ensemble = NameClassifierEnsemble(members).eval()
    return TrainingResult(ensemble, train_log_prior(encoded), history, best_epochs)


def distilled(encoded: Encoded, teachers: NameClassifierEnsemble, weight: float) -> Encoded:
    """The training names with targets mixed from their labels and the teachers' probabilities.

    The teachers' averaged distribution carries what one label cannot (which other languages a
    name could plausibly be), so a single student can learn an ensemble's smoother ranking at one
    model's serving cost (measured in docs/training.md: within the seed spread, not adopted).
    Loss weights stay the labels'.
    """
    probabilities = torch.softmax(predict_logits(teachers, encoded.tokens, encoded.lengths), dim=1)
    mixed = (1.0 - weight) * encoded.targets + weight * probabilities.numpy().astype(
        encoded.targets.dtype
    )
    return Encoded(encoded.tokens, encoded.lengths, mixed, encoded.weights)
