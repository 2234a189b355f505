"""A naive Bayes head on the model's own hashed n-grams, fitted in closed form, inside the graph.

Character n-gram naive Bayes is the baseline a char-RNN has to beat, and on names from other
sources it is as good as the network: the two make different mistakes. Counting the training
names' n-grams in the same hash buckets the n-gram bag uses makes naive Bayes one table lookup
and a sum in the exported graph, so the served model is the ensemble of both at almost no cost.
Its weight is chosen on validation names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from nameorigin.core.encoding import CharacterEncoder
from training.corpus import Pairs
from training.model import NameClassifierEnsemble
from training.train import EVALUATION_BATCH, names_logits

FloatArray = npt.NDArray[np.floating[Any]]

#: Additive smoothing of the n-gram counts (the baseline's alpha).
SMOOTHING = 0.1
WEIGHT_GRID = (0.0, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3)


def fit_naive_bayes(
    model: NameClassifierEnsemble,
    train_pairs: Pairs,
    encoder: CharacterEncoder,
    num_labels: int,
    smoothing: float = SMOOTHING,
) -> None:
    """Store log P(bucket | label) from the training names (soft targets) in ``model``."""
    bag = model.first_bag
    if bag is None:
        raise ValueError("the naive Bayes head reads the n-gram bag's ids: ngram_dim must be > 0")
    names, targets = train_pairs.soft_targets(num_labels)
    counts = torch.zeros(bag.buckets + 1, num_labels, dtype=torch.float64)
    for start in range(0, len(names), EVALUATION_BATCH):
        tokens, lengths = encoder.encode(names[start : start + EVALUATION_BATCH])
        ids = bag.bucket_ids(torch.from_numpy(tokens).long(), torch.from_numpy(lengths).long())
        mass = torch.from_numpy(targets[start : start + EVALUATION_BATCH]).double()
        per_window = mass[:, None, None, :].expand(*ids.shape, num_labels)
        counts.index_add_(0, ids.reshape(-1), per_window.reshape(-1, num_labels))
    counts[bag.buckets] = 0.0  # windows past the end carry no evidence
    totals = counts[: bag.buckets].sum(dim=0, keepdim=True)
    log_likelihood = torch.log((counts + smoothing) / (totals + smoothing * bag.buckets))
    # Centred per n-gram: a constant added to one row adds the same to every label's score, so
    # the answers do not change, while the rows' spread shrinks to what int8 stores well.
    log_likelihood -= log_likelihood.mean(dim=1, keepdim=True)
    log_likelihood[bag.buckets] = 0.0
    model.ngram_log_likelihood = log_likelihood.float()


def tune_naive_bayes_weight(
    model: NameClassifierEnsemble,
    validation: Sequence[str],
    objective: Callable[[FloatArray], float],
    encoder: CharacterEncoder,
    residual_log_prior: torch.Tensor,
) -> float:
    """Set (and return) the weight with the best validation objective (smallest on ties)."""
    model.naive_bayes_weight.fill_(0.0)
    network = names_logits(model, encoder, list(validation)) - residual_log_prior
    tokens, lengths = encoder.encode(list(validation))
    with torch.no_grad():
        evidence = model.naive_bayes_scores(
            torch.from_numpy(tokens).long(), torch.from_numpy(lengths).long()
        )
    best_weight, best_score = 0.0, -1.0
    for weight in WEIGHT_GRID:
        combined = (network + weight * evidence).numpy()
        value = objective(combined)
        if value > best_score + 1e-12:
            best_weight, best_score = weight, float(value)
    model.naive_bayes_weight.fill_(best_weight)
    return best_weight
