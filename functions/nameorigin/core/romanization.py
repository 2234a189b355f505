# ruff: noqa: RUF001, RUF003 - Greek letters are the point of this module
"""Romanization of Greek and Cyrillic script: what the model reads is Latin letters.

Training romanizes the extra sources' Greek and Russian surname lists with these functions, and
the serving rule (``nameorigin.core.normalization``) applies the same ones to a caller's
``Παπαδόπουλος`` or ``Кузнецова``, so both sides write a name alike. Greek follows ELOT 743
(= ISO 843 type 2, the scheme of Greek passports); Russian follows BGN/PCGN through ``iuliia``,
which implements the published scheme. Both are standards, so a romanized name is what a person
of that origin is likely to write in Latin letters; anything a scheme does not cover is left
alone and later dropped by the normalization rule. Other scripts (Han, Hangul, Arabic) have no
faithful letter-by-letter romanization and are not attempted.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from types import MappingProxyType

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


#: What iuliia's BGN/PCGN leaves in Cyrillic (ё: the scheme writes ë) and the soft and hard sign
#: marks it writes (’ ”), which everyday spelling leaves out (Vasilyev, not Vasil’yev).
_BGN_PCGN_FINISH = str.maketrans({"ё": "ë", "Ё": "Ë", "’": None, "”": None})


def romanize_russian(name: str) -> str:
    """``Кузнецова`` → ``Kuznetsova``, ``Соловьёв`` → ``Solovyëv`` (BGN/PCGN, sign marks left out).

    Without the ë, the shared rule would drop the Cyrillic letter (``Aksёnov`` → ``aksnov``);
    without dropping the marks, it would keep them as apostrophes (``vasil'yev``), a spelling
    callers rarely write.
    """
    # ~20 ms to import: paid once the first Cyrillic name arrives, never at cold start.
    import iuliia  # type: ignore[import-untyped]  # noqa: PLC0415

    return str(iuliia.BGN_PCGN.translate(name)).translate(_BGN_PCGN_FINISH)


#: Scheme name (as the manifest records it) → the script it reads (as Unicode names its letters,
#: and as error messages say it) and its romanizer.
SCHEMES: Mapping[str, tuple[str, Callable[[str], str]]] = MappingProxyType(
    {
        "greek-elot-743": ("Greek", romanize_greek),
        "russian-bgn-pcgn": ("Cyrillic", romanize_russian),
    }
)


def _in_script(word: str, script: str) -> bool:
    prefix = script.upper()
    return any(unicodedata.name(char, "").startswith(prefix) for char in word)


def romanize(name: str, schemes: tuple[str, ...]) -> str:
    """``name`` with each word in a listed scheme's script romanized; other words unchanged."""
    if name.isascii() or max(name) < "\u0370":  # nothing from the Greek block upward
        return name
    words = name.split(" ")
    for scheme in schemes:
        script, romanizer = SCHEMES[scheme]
        words = [romanizer(word) if _in_script(word, script) else word for word in words]
    return " ".join(words)
