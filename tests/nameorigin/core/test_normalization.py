"""The normalization rule: the one function that turns raw names into the model's alphabet."""

from __future__ import annotations

import pytest

from nameorigin.core.normalization import DEFAULT_RULE, NormalizationRule


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jordan", "jordan"),
        ("  O'Brien ", "o'brien"),
        ("Adlersflügel", "adlersflugel"),
        ("Maçon", "macon"),
        ("Łukasz", "lukasz"),
        ("Straße", "strasse"),
        ("Søren", "soren"),
        ("van\u00a0der  Berg", "van der berg"),
        ("Smith-Jones", "smith-jones"),
        ("Abl/Ev,1", "ablev"),
        ("Nguyễn", "nguyen"),
        ("ＪＯＲＤＡＮ", "jordan"),  # noqa: RUF001 - full-width letters fold under NFKD
        ("O\u2019Sullivan", "o'sullivan"),  # the apostrophe a phone or word processor types
        ("D\u00b4Angelo", "d'angelo"),  # an acute accent typed as an apostrophe
        ("Dell\u02bcAcqua", "dell'acqua"),
        ("Smith\u2013Jones", "smith-jones"),  # en dash
        ("Lloyd\u2011George", "lloyd-george"),  # non-breaking hyphen
    ],
)
def test_folds_to_the_alphabet(raw: str, expected: str) -> None:
    assert DEFAULT_RULE.normalize(raw) == expected


def test_output_only_holds_alphabet_characters() -> None:
    text = DEFAULT_RULE.normalize("Ōtsuka—Ēriksdóttir 42 ☃ Ærø\tX")
    assert set(text) <= set(DEFAULT_RULE.alphabet)
    assert "  " not in text
    assert text == text.strip()


@pytest.mark.parametrize("raw", ["", "   ", "123", "☃☃", "-'-"])
def test_names_without_letters(raw: str) -> None:
    assert not DEFAULT_RULE.has_letters(DEFAULT_RULE.normalize(raw))


def test_rule_round_trips_through_the_manifest() -> None:
    rebuilt = NormalizationRule.from_manifest(DEFAULT_RULE.to_manifest())
    assert rebuilt == DEFAULT_RULE
    for raw in ["Łukasz", "Straße", "O'Neil", "Müller-Lüdenscheidt"]:
        assert rebuilt.normalize(raw) == DEFAULT_RULE.normalize(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Кузнецова", "kuznetsova"),
        ("Соловьёв", "solovyev"),
        ("Παπαδόπουλος", "papadopoulos"),
        ("ΓΕΩΡΓΙΟΥ", "georgiou"),
        ("김", ""),  # Hangul: no faithful romanization, nothing left (the caller gets a 422)
    ],
)
def test_greek_and_cyrillic_are_read_as_training_wrote_them(raw: str, expected: str) -> None:
    assert DEFAULT_RULE.normalize(raw) == expected


def test_a_rule_recorded_without_romanizations_reads_latin_only() -> None:
    recorded = DEFAULT_RULE.to_manifest()
    del recorded["romanizations"]  # what manifests written before romanization hold
    older = NormalizationRule.from_manifest(recorded)
    assert older.romanizations == ()
    assert older.normalize("Кузнецова") == ""
    assert older.normalize("O'Brien") == DEFAULT_RULE.normalize("O'Brien")
    assert older.scripts_read() == "Latin letters"
    assert DEFAULT_RULE.scripts_read() == "Latin letters, or Greek or Cyrillic (romanized)"


def test_case_preserving_rule_keeps_case() -> None:
    rule = NormalizationRule(
        alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", lowercase=False
    )
    assert rule.normalize("McDonald") == "McDonald"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alphabet": "abcé"}, "ASCII"),
        ({"alphabet": "abca"}, "twice"),
        ({"unicode_form": "NFX"}, "Unicode normalization form"),
        ({"romanizations": ("klingon",)}, "unknown romanization schemes"),
    ],
)
def test_invalid_rules_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NormalizationRule(**kwargs)  # type: ignore[arg-type]
