"""The one text normalization rule shared by training and serving.

The rule is data (it travels inside the artifact's manifest), and this module is the only code that
applies it: training imports it to build the data set, serving imports it to read requests, so the
two can never drift apart.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from nameorigin.core.romanization import SCHEMES, romanize

ASCII_LETTERS = "abcdefghijklmnopqrstuvwxyz"

#: Letters that Unicode does not decompose into an ASCII base letter plus combining marks.
DEFAULT_TRANSLITERATIONS: Mapping[str, str] = MappingProxyType(
    {
        "ß": "ss",
        "ẞ": "SS",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "Th",
        "ı": "i",  # noqa: RUF001 - dotless i, deliberately
        # Apostrophes and hyphens as word processors and phone keyboards type them: O\u2019Brien
        # is O'Brien (the acute accent alone would otherwise decompose to a space).
        "\u2019": "'",  # right single quotation mark
        "\u2018": "'",  # left single quotation mark
        "\u02bc": "'",  # modifier letter apostrophe
        "\u00b4": "'",  # acute accent
        "\u0060": "'",  # grave accent
        "\u2032": "'",  # prime
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2212": "-",  # minus sign
    }
)


#: Greek (ELOT 743) and Russian (BGN/PCGN): the schemes of the extra sources' Greek and Russian
#: lists, so a caller's Кузнецова reads as the Kuznetsova training saw.
DEFAULT_ROMANIZATIONS = ("greek-elot-743", "russian-bgn-pcgn")


class _DropUnlisted(dict[int, int | None]):
    """A str.translate table that keeps listed code points and drops every other one."""

    def __missing__(self, key: int) -> None:
        return None


@dataclass(frozen=True)
class NormalizationRule:
    """How a raw name becomes the character sequence the model reads.

    Steps, in order: romanize words in Greek or Cyrillic script (``romanizations``, the schemes
    training wrote its Greek and Russian source names in), transliterate letters without a
    decomposition, Unicode-decompose (``unicode_form``), drop combining marks, lowercase (if
    ``lowercase``), turn every kind of white space into a plain space, drop characters outside
    ``alphabet``, collapse runs of spaces and strip.
    """

    alphabet: str = ASCII_LETTERS + " '-"
    unicode_form: str = "NFKD"
    lowercase: bool = True
    transliterations: Mapping[str, str] = field(default_factory=lambda: DEFAULT_TRANSLITERATIONS)
    romanizations: tuple[str, ...] = DEFAULT_ROMANIZATIONS

    def __post_init__(self) -> None:
        unknown = sorted(set(self.romanizations) - set(SCHEMES))
        if unknown:
            raise ValueError(f"unknown romanization schemes {unknown}; known: {sorted(SCHEMES)}")
        if not self.alphabet.isascii():
            raise ValueError("the alphabet must be ASCII so that encoding can work on bytes")
        if len(set(self.alphabet)) != len(self.alphabet):
            raise ValueError("the alphabet lists a character twice")
        if self.unicode_form not in {"NFC", "NFD", "NFKC", "NFKD"}:
            raise ValueError(f"unknown Unicode normalization form {self.unicode_form!r}")
        keep = _DropUnlisted({ord(char): ord(char) for char in self.alphabet})
        object.__setattr__(self, "_keep_table", keep)
        object.__setattr__(self, "_translit_table", str.maketrans(dict(self.transliterations)))

    def normalize(self, name: str) -> str:
        """Return ``name`` as the model sees it (possibly empty)."""
        text = romanize(name, self.romanizations) if self.romanizations else name
        text = text.translate(self._translit_table)  # type: ignore[attr-defined]
        text = unicodedata.normalize(self.unicode_form, text)  # type: ignore[arg-type]
        if not text.isascii():
            text = "".join(char for char in text if not unicodedata.combining(char))
        if self.lowercase:
            text = text.lower()
        if " " in self.alphabet:
            text = " ".join(text.split())
        return " ".join(text.translate(self._keep_table).split())  # type: ignore[attr-defined]

    def scripts_read(self) -> str:
        """The scripts a name may be written in, for the error that says none of it was read."""
        romanized = [SCHEMES[scheme][0] for scheme in self.romanizations]
        if not romanized:
            return "Latin letters"
        return f"Latin letters, or {' or '.join(romanized)} (romanized)"

    def has_letters(self, normalized: str) -> bool:
        """True if a normalized name still holds a letter (not only spaces and punctuation)."""
        return any(char.isalpha() for char in normalized)

    def to_manifest(self) -> dict[str, Any]:
        """The rule as plain JSON data, for the artifact's manifest."""
        return {
            "alphabet": self.alphabet,
            "unicode_form": self.unicode_form,
            "lowercase": self.lowercase,
            "transliterations": dict(self.transliterations),
            "romanizations": list(self.romanizations),
        }

    @classmethod
    def from_manifest(cls, data: Mapping[str, Any]) -> NormalizationRule:
        """Rebuild the rule exactly as training recorded it."""
        return cls(
            alphabet=str(data["alphabet"]),
            unicode_form=str(data["unicode_form"]),
            lowercase=bool(data["lowercase"]),
            transliterations=MappingProxyType(dict(data["transliterations"])),
            # Rules recorded before romanization existed read Latin letters only.
            romanizations=tuple(data.get("romanizations", ())),
        )


DEFAULT_RULE = NormalizationRule()
