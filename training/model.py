"""The char-RNN: a masked bidirectional GRU whose answer for a name never depends on padding."""

from __future__ import annotations

import torch
from torch import nn


class NameClassifier(nn.Module):
    """Embedding → forward GRU and backward GRU over each name's own characters → linear head.

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
        self.head = nn.Linear(2 * hidden_size, num_labels)
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
        features = torch.cat([forward_out[rows, last], backward_out[rows, last]], dim=1)
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

    def logits(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Mean of the members' uncalibrated scores plus the logit bias ``[batch, labels]``."""
        members: list[NameClassifier] = list(self.members)  # type: ignore[arg-type]
        stacked = torch.stack([member.logits(tokens, lengths) for member in members])
        return stacked.mean(dim=0) + self.logit_bias

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Calibrated log-probabilities ``[batch, labels]`` (what the ONNX graph outputs)."""
        return torch.log_softmax(self.logits(tokens, lengths) / self.temperature, dim=1)
