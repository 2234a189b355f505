"""Minibatch training of the char-RNN with early stopping on validation macro-F1.

Everything that changes the result is in :class:`TrainingConfig` (recorded in the manifest), and
every random choice is seeded from it, so the same config on the same data gives the same model.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch
from sklearn.metrics import f1_score
from torch import nn
from tqdm import tqdm  # type: ignore[import-untyped]

from training.model import NameClassifier, NameClassifierEnsemble

IntArray = npt.NDArray[np.int64]
EVALUATION_BATCH = 1024
POOL_BATCHES = 32


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters; the defaults are the promoted model's (see docs/training.md)."""

    embedding_dim: int = 32
    hidden_size: int = 128
    num_layers: int = 1
    dropout: float = 0.5
    embedding_dropout: float = 0.3
    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 3e-3
    weight_decay: float = 0.05
    label_smoothing: float = 0.0
    #: Loss weight of a class ∝ count**-power (0: plain, 1: fully balanced).
    class_weight_power: float = 0.0
    #: Sampling probability of an example ∝ its class count**-power (0: plain shuffling).
    sampling_power: float = 0.0
    schedule: Literal["onecycle", "cosine", "constant"] = "onecycle"
    #: Epochs without a better validation macro-F1 before stopping (0: never stop early).
    patience: int = 8
    #: Independently seeded models averaged in one graph.
    members: int = 1
    #: Post-hoc logit adjustment τ: logits - τ·log(class prior); negative = tune τ on validation.
    prior_adjustment: float = -1.0
    seed: int = 0

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


@dataclass
class TrainingResult:
    """The trained (uncalibrated) model and how training went."""

    model: NameClassifierEnsemble
    history: list[EpochRecord] = field(default_factory=list)
    best_epochs: list[int] = field(default_factory=list)


def class_frequencies(targets: IntArray, num_labels: int) -> npt.NDArray[np.float64]:
    """Examples per class (at least 1, so powers stay finite)."""
    return np.maximum(np.bincount(targets, minlength=num_labels), 1).astype(np.float64)


def tempered_class_weights(
    targets: IntArray, num_labels: int, power: float
) -> npt.NDArray[np.float64]:
    """Per-class loss weights ∝ count**-power, normalized to mean 1 over the examples."""
    counts = class_frequencies(targets, num_labels)
    weights = counts**-power
    return weights / float((weights[targets]).mean())


def batch_order(
    targets: IntArray, num_labels: int, power: float, generator: np.random.Generator
) -> IntArray:
    """One epoch's example order: a shuffle, or a class-tempered resample if ``power`` > 0."""
    if power == 0:
        return generator.permutation(len(targets)).astype(np.int64)
    counts = class_frequencies(targets, num_labels)
    weights = counts[targets] ** -power
    chosen = generator.choice(len(targets), size=len(targets), p=weights / weights.sum())
    return np.asarray(chosen, dtype=np.int64)


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


def _scheduler(
    config: TrainingConfig, optimizer: torch.optim.Optimizer, steps_per_epoch: int
) -> torch.optim.lr_scheduler.LRScheduler:
    total = config.epochs * steps_per_epoch
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.learning_rate, total_steps=total
        )
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)


def train_member(
    config: TrainingConfig,
    member: int,
    data: tuple[IntArray, IntArray, IntArray],
    split: tuple[IntArray, IntArray],
    shape: tuple[int, int],
    *,
    progress: bool = True,
) -> tuple[NameClassifier, list[EpochRecord], int]:
    """Train one model; returns the state with the best validation macro-F1 and its epoch."""
    tokens, lengths, targets = data
    train_rows, validation_rows = split
    vocabulary_size, num_labels = shape
    seed = config.seed + 1000 * member
    torch.manual_seed(seed)
    generator = np.random.default_rng(seed)
    model = NameClassifier(
        vocabulary_size,
        num_labels,
        embedding_dim=config.embedding_dim,
        hidden_size=config.hidden_size,
        num_layers=config.num_layers,
        dropout=config.dropout,
        embedding_dropout=config.embedding_dropout,
    )
    train_targets = targets[train_rows]
    weights = tempered_class_weights(train_targets, num_labels, config.class_weight_power)
    loss_function = nn.CrossEntropyLoss(
        weight=torch.tensor(weights, dtype=torch.float32), label_smoothing=config.label_smoothing
    )
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    steps_per_epoch = math.ceil(len(train_rows) / config.batch_size)
    scheduler = _scheduler(config, optimizer, steps_per_epoch)
    validation_targets = torch.from_numpy(targets[validation_rows])
    best_f1, best_epoch, best_state = -1.0, 0, copy.deepcopy(model.state_dict())
    history: list[EpochRecord] = []
    bar = tqdm(range(1, config.epochs + 1), desc=f"member {member}", disable=not progress)
    for epoch in bar:
        model.train()
        order = train_rows[batch_order(train_targets, num_labels, config.sampling_power, generator)]
        total_loss = 0.0
        for rows in length_bucketed_batches(order, lengths, config.batch_size, generator):
            batch_tokens, batch_lengths = _batch(tokens, lengths, rows)
            loss = loss_function(
                model.logits(batch_tokens, batch_lengths), torch.from_numpy(targets[rows])
            )
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            scheduler.step()
            total_loss += loss.item() * len(rows)
        logits = predict_logits(model, tokens[validation_rows], lengths[validation_rows])
        predicted = logits.argmax(dim=1).numpy()
        record = EpochRecord(
            member=member,
            epoch=epoch,
            train_loss=total_loss / len(order),
            validation_loss=float(nn.functional.cross_entropy(logits, validation_targets)),
            validation_accuracy=float((predicted == targets[validation_rows]).mean()),
            validation_macro_f1=float(
                f1_score(targets[validation_rows], predicted, average="macro", zero_division=0)
            ),
        )
        history.append(record)
        bar.set_postfix(loss=f"{record.train_loss:.3f}", val_f1=f"{record.validation_macro_f1:.3f}")
        if record.validation_macro_f1 > best_f1:
            best_f1, best_epoch = record.validation_macro_f1, epoch
            best_state = copy.deepcopy(model.state_dict())
        elif config.patience and epoch - best_epoch >= config.patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    return model, history, best_epoch


def train(
    config: TrainingConfig,
    tokens: IntArray,
    lengths: IntArray,
    targets: IntArray,
    train_rows: IntArray,
    validation_rows: IntArray,
    vocabulary_size: int,
    num_labels: int,
    *,
    progress: bool = True,
) -> TrainingResult:
    """Train ``config.members`` seeded models and average them in one ensemble module."""
    members: list[NameClassifier] = []
    history: list[EpochRecord] = []
    best_epochs: list[int] = []
    for member in range(config.members):
        model, member_history, best_epoch = train_member(
            config,
            member,
            (tokens, lengths, targets),
            (train_rows, validation_rows),
            (vocabulary_size, num_labels),
            progress=progress,
        )
        members.append(model)
        history.extend(member_history)
        best_epochs.append(best_epoch)
    return TrainingResult(NameClassifierEnsemble(members).eval(), history, best_epochs)
