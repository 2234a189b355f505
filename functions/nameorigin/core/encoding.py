"""Turn normalized names into the model's integer tensors, with no Python loop per character."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

#: Index 0 is padding; the alphabet's characters are 1..len(alphabet).
PAD_INDEX = 0
#: What ``bytes.translate`` turns a character outside the alphabet into: no token index can be
#: 255, since an ASCII alphabet has at most 128 characters.
_OUTSIDE = 0xFF
_OUTSIDE_BYTE = bytes([_OUTSIDE])

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
        #: The same table for ``bytes.translate`` (``encode_one``).
        self._byte_table = bytes(_OUTSIDE if index < 0 else index for index in self._table.tolist())

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
        if len(names) == 1 and pad_to is None:
            return self.encode_one(names[0])
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

    def encode_one(self, name: str) -> tuple[IntArray, IntArray]:
        """``encode([name])``: the common single-name request, with the fewest numpy calls.

        ``bytes.translate`` maps and checks the characters in C; numpy only builds the two small
        arrays onnxruntime needs.
        """
        codes = name.encode("ascii").translate(self._byte_table)
        if _OUTSIDE_BYTE in codes:
            raise ValueError("a name holds characters outside the alphabet; normalize it first")
        return np.array([list(codes)], dtype=np.int64), np.array([len(codes)], dtype=np.int64)
