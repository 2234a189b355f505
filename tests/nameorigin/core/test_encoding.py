"""Vectorized encoding must equal the obvious per-character loop."""

from __future__ import annotations

import numpy as np
import pytest

from nameorigin.core.encoding import PAD_INDEX, CharacterEncoder

ALPHABET = "abcdefghijklmnopqrstuvwxyz '-"


def reference_encode(names: list[str], alphabet: str) -> np.ndarray:
    width = max((len(name) for name in names), default=0)
    tokens = np.zeros((len(names), width), dtype=np.int64)
    for row, name in enumerate(names):
        for column, char in enumerate(name):
            tokens[row, column] = alphabet.index(char) + 1
    return tokens


def test_matches_the_per_character_loop() -> None:
    names = ["jordan", "o'brien", "a", "van der berg", "smith-jones", "zz"]
    tokens, lengths = CharacterEncoder(ALPHABET).encode(names)
    np.testing.assert_array_equal(tokens, reference_encode(names, ALPHABET))
    np.testing.assert_array_equal(lengths, [len(name) for name in names])
    assert tokens.dtype == np.int64
    assert lengths.dtype == np.int64


def test_pads_with_the_padding_index() -> None:
    tokens, _ = CharacterEncoder(ALPHABET).encode(["ab", "abcd"])
    assert tokens[0, 2:].tolist() == [PAD_INDEX, PAD_INDEX]
    assert PAD_INDEX not in tokens[1].tolist()


def test_pad_to_fixes_the_width() -> None:
    tokens, _ = CharacterEncoder(ALPHABET).encode(["ab"], pad_to=5)
    assert tokens.shape == (1, 5)
    with pytest.raises(ValueError, match="longer than pad_to"):
        CharacterEncoder(ALPHABET).encode(["abcdef"], pad_to=5)


def test_empty_batch() -> None:
    tokens, lengths = CharacterEncoder(ALPHABET).encode([])
    assert tokens.shape == (0, 0)
    assert lengths.shape == (0,)


def test_refuses_characters_outside_the_alphabet() -> None:
    with pytest.raises(ValueError, match="outside the alphabet"):
        CharacterEncoder(ALPHABET).encode(["Jordan"])


def test_vocabulary_counts_padding() -> None:
    assert CharacterEncoder(ALPHABET).vocabulary_size == len(ALPHABET) + 1


@pytest.mark.parametrize("name", ["jordan", "o'brien", "van der berg", "a", ""])
def test_encode_one_equals_the_batch_encoding(name: str) -> None:
    encoder = CharacterEncoder(ALPHABET)
    tokens, lengths = encoder.encode_one(name)
    batch_tokens, batch_lengths = encoder.encode([name], pad_to=len(name))  # the general path
    np.testing.assert_array_equal(tokens, batch_tokens)
    np.testing.assert_array_equal(lengths, batch_lengths)
    assert tokens.shape == (1, len(name))
    assert (tokens.dtype, lengths.dtype) == (np.int64, np.int64)


@pytest.mark.parametrize("name", ["Jordan", "a_b", "é"])
def test_encode_one_refuses_characters_outside_the_alphabet(name: str) -> None:
    with pytest.raises(ValueError, match=r"outside the alphabet|ascii"):
        CharacterEncoder(ALPHABET).encode_one(name)
