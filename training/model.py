"""The char-RNN: a masked bidirectional GRU whose answer for a name never depends on padding."""

from __future__ import annotations

import torch
from torch import nn

#: Multiplier of the n-gram hash (Knuth's multiplicative constant); keys stay far below 2**63.
NGRAM_HASH_MULTIPLIER = 2654435761


class CharacterNgramBag(nn.Module):
    """Mean embedding of a name's hashed character 1…``max_n``-grams, boundaries included.

    The name is read with one padding index before it and after it as word boundaries, so
    ``^ko`` and ``ova$`` are features of their own. A window's key is ``Σ token[k]·V**k`` (exact
    in float32 for ``max_n`` ≤ 4, which lets the exported graph compute all keys with one Conv),
    hashed into ``buckets`` rows; windows past the end map to a zero row. This is the fastText /
    n-gram-logistic-regression signal the baselines live on, beside the GRU's sequence view.
    """

    def __init__(self, vocabulary_size: int, dim: int, buckets: int, max_n: int = 4) -> None:
        super().__init__()
        if not 1 <= max_n <= 4:
            raise ValueError("max_n must be 1..4 (keys must stay exact in float32)")
        self.vocabulary_size, self.buckets, self.max_n = vocabulary_size, buckets, max_n
        # Sparse rows: an optimizer step touches only the n-grams of the batch.
        self.table = nn.Embedding(buckets + 1, dim, padding_idx=buckets, sparse=True)
        nn.init.normal_(self.table.weight, std=0.02)
        with torch.no_grad():
            self.table.weight[buckets].zero_()

    @property
    def dim(self) -> int:
        """Width of the bag's output."""
        return int(self.table.embedding_dim)

    def bucket_ids(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Hashed n-gram ids ``[batch, max_n, width + 2]``; invalid windows are ``buckets``."""
        width = tokens.shape[1]
        padded = nn.functional.pad(tokens, (1, self.max_n))
        starts = width + 2
        key = torch.zeros_like(padded[:, :starts])
        keys = []
        for offset in range(self.max_n):
            key = key + padded[:, offset : offset + starts] * self.vocabulary_size**offset
            keys.append(key)
        stacked = torch.stack(keys, dim=1)
        sizes = torch.arange(1, self.max_n + 1, device=tokens.device)
        salted = stacked + (sizes * self.vocabulary_size**self.max_n)[None, :, None]
        hashed = (salted * NGRAM_HASH_MULTIPLIER) % self.buckets
        positions = torch.arange(starts, device=tokens.device)
        valid = positions[None, None, :] < (lengths[:, None, None] + 3 - sizes[None, :, None])
        return torch.where(valid, hashed, torch.full_like(hashed, self.buckets))

    def windows(self, lengths: torch.Tensor) -> torch.Tensor:
        """Valid windows per name: Σₙ (length + 3 - n) = max_n·length + max_n·(5 - max_n)/2."""
        return lengths * self.max_n + self.max_n * (5 - self.max_n) // 2

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``[batch, dim]`` mean n-gram embedding."""
        summed = self.table(self.bucket_ids(tokens, lengths)).sum(dim=(1, 2))
        mean: torch.Tensor = summed / self.windows(lengths).unsqueeze(1).to(summed.dtype)
        return mean


class NameClassifier(nn.Module):
    """Embedding → forward and backward GRU over each name's own characters (+ n-gram bag) → head.

    The backward direction reads each name reversed *within its own length* (a gather, not
    ``pack_padded_sequence``), and both directions are read at position ``length - 1``. A name's
    log-probabilities are therefore identical whatever it is padded to, so serving may bucket
    batches freely, and the graph exports to plain ONNX ops. The temperature is a buffer fitted
    after training and baked into the exported graph.
    """

    def __init__(
        self,
        vocabulary_size: int,
        num_labels: int,
        embedding_dim: int = 64,
        hidden_size: int = 128,
        num_layers: int = 1,
        dropout: float = 0.2,
        embedding_dropout: float = 0.0,
        ngram_dim: int = 0,
        ngram_buckets: int = 1 << 16,
    ) -> None:
        super().__init__()
        rnn_dropout = dropout if num_layers > 1 else 0.0
        self.embedding = nn.Embedding(vocabulary_size, embedding_dim, padding_idx=0)
        self.forward_rnn = nn.GRU(
            embedding_dim, hidden_size, num_layers, batch_first=True, dropout=rnn_dropout
        )
        self.backward_rnn = nn.GRU(
            embedding_dim, hidden_size, num_layers, batch_first=True, dropout=rnn_dropout
        )
        self.dropout = nn.Dropout(dropout)
        self.embedding_dropout = nn.Dropout(embedding_dropout)
        self.ngrams = (
            CharacterNgramBag(vocabulary_size, ngram_dim, ngram_buckets) if ngram_dim else None
        )
        self.head = nn.Linear(2 * hidden_size + ngram_dim, num_labels)
        self.temperature: torch.Tensor
        self.register_buffer("temperature", torch.ones(()))

    def logits(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Uncalibrated scores ``[batch, labels]``."""
        batch, width = tokens.shape
        positions = torch.arange(width, device=tokens.device).unsqueeze(0)
        last = (lengths - 1).clamp(min=0)
        reverse_index = (lengths.unsqueeze(1) - 1 - positions).clamp(min=0)
        inside = positions < lengths.unsqueeze(1)
        reversed_tokens = torch.where(inside, tokens.gather(1, reverse_index), 0)

        forward_out, _ = self.forward_rnn(self.embedding_dropout(self.embedding(tokens)))
        backward_out, _ = self.backward_rnn(self.embedding_dropout(self.embedding(reversed_tokens)))
        rows = torch.arange(batch, device=tokens.device)
        parts = [forward_out[rows, last], backward_out[rows, last]]
        if self.ngrams is not None:
            parts.append(self.ngrams(tokens, lengths))
        features = torch.cat(parts, dim=1)
        logits: torch.Tensor = self.head(self.dropout(features))
        return logits

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Calibrated log-probabilities ``[batch, labels]`` (what the ONNX graph outputs)."""
        return torch.log_softmax(self.logits(tokens, lengths) / self.temperature, dim=1)


class NameClassifierEnsemble(nn.Module):
    """Several independently seeded :class:`NameClassifier` s averaged inside one graph.

    Members' logits are averaged, shifted by ``logit_bias`` (the post-hoc prior adjustment, zero
    unless fitted) and divided by one shared temperature, so the ensemble keeps the single model's
    interface and padding invariance and exports to one ONNX file.
    """

    def __init__(self, members: list[NameClassifier]) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(members)
        self.temperature: torch.Tensor
        self.register_buffer("temperature", torch.ones(()))
        self.logit_bias: torch.Tensor
        self.register_buffer("logit_bias", torch.zeros(members[0].head.out_features))
        # Hashed n-gram naive Bayes log-likelihoods [buckets + 1, labels] on the first member's
        # n-gram ids, added with a weight fitted on validation; empty until fitted.
        self.ngram_log_likelihood: torch.Tensor
        self.register_buffer("ngram_log_likelihood", torch.zeros(0))
        self.naive_bayes_weight: torch.Tensor
        self.register_buffer("naive_bayes_weight", torch.zeros(()))

    @property
    def first_bag(self) -> CharacterNgramBag | None:
        """The n-gram bag whose ids the naive Bayes head reads (the first member's)."""
        bag = self.members[0].ngrams
        return bag if isinstance(bag, CharacterNgramBag) else None

    def naive_bayes_scores(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Σ of log P(n-gram | label) over a name ``[batch, labels]`` (0 if not fitted)."""
        bag = self.first_bag
        if bag is None or not self.ngram_log_likelihood.numel():
            return torch.zeros(tokens.shape[0], self.logit_bias.shape[0])
        scores: torch.Tensor = self.ngram_log_likelihood[bag.bucket_ids(tokens, lengths)]
        return scores.sum(dim=(1, 2))

    def logits(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Members' mean score + logit bias (+ weighted naive Bayes), uncalibrated."""
        members: list[NameClassifier] = list(self.members)  # type: ignore[arg-type]
        stacked = torch.stack([member.logits(tokens, lengths) for member in members])
        logits = stacked.mean(dim=0) + self.logit_bias
        if self.ngram_log_likelihood.numel():
            logits = logits + self.naive_bayes_weight * self.naive_bayes_scores(tokens, lengths)
        return logits

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Calibrated log-probabilities ``[batch, labels]`` (what the ONNX graph outputs)."""
        return torch.log_softmax(self.logits(tokens, lengths) / self.temperature, dim=1)
