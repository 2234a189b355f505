"""Turn normalized names into the model's integer tensors, with no Python loop per character."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

#: Index 0 is padding; the alphabet's characters are 1..len(alphabet).
PAD_INDEX = 0

IntArray = npt.NDArray[np.int64]


class CharacterEncoder:
    """Maps an ASCII alphabet onto token indices 1..N with one byte-level lookup table."""

    def __init__(self, alphabet: str) -> None:
        if not alphabet.isascii():
            raise ValueError("the alphabet must be ASCII")
        self.alphabet = alphabet
        self._table = np.full(256, -1, dtype=np.int64)
        for index, char in enumerate(alphabet, start=1):
            self._table[ord(char)] = index

    @property
    def vocabulary_size(self) -> int:
        """Number of embedding rows the model needs (alphabet plus padding)."""
        return len(self.alphabet) + 1

    def encode(self, names: Sequence[str], pad_to: int | None = None) -> tuple[IntArray, IntArray]:
        """Encode already-normalized names as ``(tokens[batch, time], lengths[batch])``.

        Names are right-padded with ``PAD_INDEX`` to the longest one (or to ``pad_to``). A character
        outside the alphabet is a caller bug (names must come from the normalization rule), so it
        raises instead of being guessed at.
        """
        if len(names) == 1 and pad_to is None:  # the common single-name request, minus overhead
            indices = self._table[np.frombuffer(names[0].encode("ascii"), dtype=np.uint8)]
            if (indices < 0).any():
                raise ValueError("a name holds characters outside the alphabet; normalize it first")
            return indices[np.newaxis, :], np.array([indices.size], dtype=np.int64)
        lengths = np.fromiter((len(name) for name in names), dtype=np.int64, count=len(names))
        width = int(lengths.max(initial=0)) if pad_to is None else pad_to
        tokens = np.zeros((len(names), width), dtype=np.int64)
        if len(names) == 0 or width == 0:
            return tokens, lengths
        if pad_to is not None and int(lengths.max(initial=0)) > pad_to:
            raise ValueError(f"a name is longer than pad_to={pad_to}")
        flat = np.frombuffer("".join(names).encode("ascii"), dtype=np.uint8)
        indices = self._table[flat]
        if (indices < 0).any():
            raise ValueError("a name holds characters outside the alphabet; normalize it first")
        rows = np.repeat(np.arange(len(names)), lengths)
        starts = np.cumsum(lengths) - lengths
        columns = np.arange(flat.size) - np.repeat(starts, lengths)
        tokens[rows, columns] = indices
        return tokens, lengths
