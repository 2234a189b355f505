"""Romanization follows the published schemes (ELOT 743 for Greek, BGN/PCGN for Russian)."""

# ruff: noqa: RUF003 - Greek and Cyrillic letters are the test data

from __future__ import annotations

import pytest

from training.transliteration import romanize_greek, romanize_russian


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
    [("Кузнецова", "Kuznetsova"), ("Щукин", "Shchukin"), ("Смирнов", "Smirnov")],
)
def test_russian_follows_bgn_pcgn(cyrillic: str, latin: str) -> None:
    assert romanize_russian(cyrillic) == latin
