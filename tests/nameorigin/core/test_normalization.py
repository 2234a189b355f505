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
    ],
)
def test_invalid_rules_are_refused(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NormalizationRule(**kwargs)  # type: ignore[arg-type]
