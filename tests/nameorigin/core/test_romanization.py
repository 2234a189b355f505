"""Romanization follows the published schemes (ELOT 743 for Greek, BGN/PCGN for Russian)
and touches only words in those scripts."""

# ruff: noqa: RUF003 - Greek and Cyrillic letters are the test data

from __future__ import annotations

import unicodedata

import pytest

from nameorigin.core.normalization import DEFAULT_RULE
from nameorigin.core.romanization import romanize, romanize_greek, romanize_russian


@pytest.mark.parametrize(
    ("greek", "latin"),
    [
        ("Παπαδόπουλος", "Papadopoulos"),  # ου → ou, accents dropped
        ("Ευαγγέλου", "Evangelou"),  # ευ before a voiced sound → ev, γγ → ng
        ("Σταύρου", "Stavrou"),
        ("Ευθυμίου", "Efthymiou"),  # ευ before θ (voiceless) → ef
        ("Μπαλτάς", "Baltas"),  # μπ at the start → b
        ("Καραμπέτσος", "Karampetsos"),  # μπ inside → mp
        ("Τσαγκαράκης", "Tsagkarakis"),  # γκ → gk
        ("Λαΐνας", "Lainas"),  # the diaeresis splits αι
        ("Χατζηδάκης", "Chatzidakis"),
        ("Ψαράς", "Psaras"),
        ("Άγιος Γεώργιος", "Agios Georgios"),
    ],
)
def test_greek_follows_elot_743(greek: str, latin: str) -> None:
    assert romanize_greek(greek) == latin


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("Кузнецова", "Kuznetsova"),
        ("Щукин", "Shchukin"),
        ("Смирнов", "Smirnov"),
        ("Аксёнов", "Aksënov"),  # ё is ë in BGN/PCGN (iuliia leaves it Cyrillic)
        ("Соловьёв", "Solovyëv"),  # the soft sign's mark is left out, as callers write it
        ("Ёлкин", "Yëlkin"),
        ("Подъячев", "Podyachev"),  # the hard sign's mark too
    ],
)
def test_russian_follows_bgn_pcgn(cyrillic: str, latin: str) -> None:
    assert romanize_russian(cyrillic) == latin


def test_every_romanized_russian_letter_survives_the_shared_rule() -> None:
    alphabet = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
    romanized = romanize_russian(alphabet + alphabet.upper())
    assert not any("CYRILLIC" in unicodedata.name(char) for char in romanized)
    folded = DEFAULT_RULE.normalize(romanized)
    # Every letter but the two signs (no sound of their own) leaves a Latin letter behind.
    assert len(folded) >= 2 * (len(alphabet) - 2)
    assert "'" not in folded


def test_only_words_in_a_listed_script_are_romanized() -> None:
    schemes = ("greek-elot-743", "russian-bgn-pcgn")
    assert romanize("Иванов-Smith", schemes) == "Ivanov-Smith"
    assert romanize("Anna Παπαδοπούλου", schemes) == "Anna Papadopoulou"
    assert romanize("Müller", schemes) == "Müller"  # Latin with accents: the rule's job
    assert romanize("Иванов", ("greek-elot-743",)) == "Иванов"  # a scheme not listed: untouched
    assert romanize("김", schemes) == "김"  # Hangul: no scheme, left to the rule (dropped)
    assert romanize("", schemes) == ""
