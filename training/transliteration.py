# ruff: noqa: RUF001, RUF003 - Greek letters are the point of this module
"""Romanization of the non-Latin surname lists that extra sources ship (Greek, Russian).

Greek follows ELOT 743 (= ISO 843 type 2, the scheme of Greek passports); Russian follows
BGN/PCGN through ``iuliia``, which implements the published scheme. Both are standards, so a
romanized name is what a person of that origin is likely to write in Latin letters; anything
a scheme does not cover is left alone and later dropped by the shared normalization rule.
"""

from __future__ import annotations

import unicodedata

import iuliia  # type: ignore[import-untyped]

#: Single Greek letters (ELOT 743, after accents are removed).
_GREEK_LETTERS = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th",
    "ι": "i", "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p",
    "ρ": "r", "σ": "s", "ς": "s", "τ": "t", "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps",
    "ω": "o",
}  # fmt: skip
#: Pairs that ELOT 743 writes as one sound (checked before single letters).
_GREEK_PAIRS = {"ου": "ou", "γγ": "ng", "γκ": "gk", "γξ": "nx", "γχ": "nch"}
#: αυ, ευ, ηυ: "v" before a vowel or voiced consonant, "f" before a voiceless one or at the end.
_GREEK_U_DIPHTHONG_BASES = {"α": "a", "ε": "e", "η": "i"}
_GREEK_VOICELESS = set("θκξπστφχψ")
_GREEK_DIAERESIS = "\u0308"


def _greek_word(word: str) -> str:
    # A diaeresis (ϊ, ϋ) splits a would-be diphthong: keep a marker until the pairs are read.
    decomposed = unicodedata.normalize("NFD", word.lower())
    letters: list[str] = []
    split_before: set[int] = set()
    for char in decomposed:
        if char == _GREEK_DIAERESIS:
            split_before.add(len(letters) - 1)
        elif not unicodedata.combining(char):
            letters.append(char)
    out: list[str] = []
    index = 0
    while index < len(letters):
        char = letters[index]
        following = letters[index + 1] if index + 1 < len(letters) else ""
        pair = char + following
        if char in _GREEK_U_DIPHTHONG_BASES and following == "υ" and index + 1 not in split_before:
            after = letters[index + 2] if index + 2 < len(letters) else ""
            voiceless = after == "" or after in _GREEK_VOICELESS
            out.append(_GREEK_U_DIPHTHONG_BASES[char] + ("f" if voiceless else "v"))
            index += 2
        elif pair == "μπ":
            at_edge = index == 0 or index + 2 == len(letters)
            out.append("b" if at_edge else "mp")
            index += 2
        elif pair in _GREEK_PAIRS and index + 1 not in split_before:
            out.append(_GREEK_PAIRS[pair])
            index += 2
        else:
            out.append(_GREEK_LETTERS.get(char, char))
            index += 1
    return "".join(out)


def romanize_greek(name: str) -> str:
    """``Παπαδόπουλος`` → ``Papadopoulos`` (ELOT 743), word by word, capitalized."""
    return " ".join(_greek_word(word).capitalize() for word in name.split())


def romanize_russian(name: str) -> str:
    """``Кузнецова`` → ``Kuznetsova`` (BGN/PCGN)."""
    return str(iuliia.BGN_PCGN.translate(name))
