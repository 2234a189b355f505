"""The extra surname sources: mapped to known labels, romanized, and exactly as data/ records."""

from __future__ import annotations

import json

import pytest

from nameorigin.core.normalization import DEFAULT_RULE
from training.sources import LOCALE_TABLE, RECORD, provenance, read_locale

TUTORIAL_LABELS = {
    "Arabic", "Chinese", "Czech", "Dutch", "English", "French", "German", "Greek", "Irish",
    "Italian", "Japanese", "Korean", "Polish", "Portuguese", "Russian", "Scottish", "Spanish",
    "Vietnamese",
}  # fmt: skip


def test_every_locale_maps_to_a_tutorial_label() -> None:
    assert {row.label for row in LOCALE_TABLE} <= TUTORIAL_LABELS


@pytest.mark.parametrize("row", LOCALE_TABLE, ids=lambda row: f"{row.package}:{row.locale}")
def test_every_locale_yields_latin_names_with_letters(row: object) -> None:
    names = read_locale(row)  # type: ignore[arg-type]
    assert len(names) >= 10
    folded = [DEFAULT_RULE.normalize(name.name) for name in names]
    kept = [name for name in folded if DEFAULT_RULE.has_letters(name)]
    # Romanized lists must survive the serving normalization (no Greek or Cyrillic left).
    assert len(kept) >= 0.95 * len(names)


def test_recorded_provenance_matches_the_installed_packages() -> None:
    recorded = json.loads(RECORD.read_text("utf-8"))
    assert provenance() == recorded, "run `python -m training.sources` after changing the table"
    assert {p["license"] for p in recorded["packages"].values()} == {"MIT"}
