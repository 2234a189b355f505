"""Extra surname lists from licensed, package-shipped sources, mapped to the 18 labels.

The tutorial data is one source with one (skewed) mix of languages; real callers send names it
never saw. Two MIT-licensed packages ship per-locale surname lists that work offline: Faker and
Mimesis. Each locale below is mapped to the label of the language its surnames come from; locales
whose list is not that language's surnames (the United States' list is half Hispanic, say) or
cannot be romanized faithfully (Hangul, kanji, Arabic script) are left out. ``data/README.md``
documents the table, versions, licenses and the sha256 of the resulting list.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from nameorigin.core.romanization import romanize_greek, romanize_russian

Romanizer = Callable[[str], str]


@dataclass(frozen=True)
class LocaleList:
    """One locale's surnames in one package, filed under ``label``."""

    package: str
    locale: str
    label: str
    romanize: Romanizer | None = None
    #: Only this attribute (Faker's romanized Chinese and Japanese lists), else every surname list.
    attribute: str | None = None


#: Faker attributes that hold surnames (several locales split them by gender).
FAKER_SURNAME_ATTRIBUTES = (
    "last_names",
    "last_names_male",
    "last_names_female",
    "last_names_unisex",
    "unisex_last_names",
    "male_last_names",
    "female_last_names",
)

LOCALE_TABLE: tuple[LocaleList, ...] = (
    # Algerian surnames in French romanization: Arabic-origin names as written in Latin letters.
    LocaleList("faker", "fr_DZ", "Arabic"),
    LocaleList("faker", "zh_CN", "Chinese", attribute="last_romanized_names"),
    LocaleList("faker", "zh_TW", "Chinese", attribute="last_romanized_names"),
    LocaleList("faker", "cs_CZ", "Czech"),
    LocaleList("mimesis", "cs", "Czech"),
    LocaleList("faker", "nl_NL", "Dutch"),
    LocaleList("faker", "nl_BE", "Dutch"),
    LocaleList("mimesis", "nl", "Dutch"),
    LocaleList("mimesis", "nl-be", "Dutch"),
    LocaleList("faker", "en_GB", "English"),
    LocaleList("faker", "fr_FR", "French"),
    LocaleList("faker", "fr_QC", "French"),
    LocaleList("mimesis", "fr", "French"),
    LocaleList("faker", "de_DE", "German"),
    LocaleList("faker", "de_AT", "German"),
    LocaleList("mimesis", "de", "German"),
    LocaleList("mimesis", "de-at", "German"),
    LocaleList("faker", "el_GR", "Greek", romanize_greek),
    LocaleList("mimesis", "el", "Greek", romanize_greek),
    # Surnames found in Ireland, in their usual (anglicized) spelling; ga_IE's Irish-language
    # forms ("Ó Cárthaigh") are not what callers write.
    LocaleList("faker", "en_IE", "Irish"),
    LocaleList("faker", "it_IT", "Italian"),
    LocaleList("mimesis", "it", "Italian"),
    LocaleList("faker", "ja_JP", "Japanese", attribute="last_romanized_names"),
    LocaleList("faker", "pl_PL", "Polish"),
    LocaleList("mimesis", "pl", "Polish"),
    # Mimesis' Brazilian list is a third Italian-Brazilian (Bergamini, Lachini): left out.
    LocaleList("faker", "pt_PT", "Portuguese"),
    LocaleList("faker", "pt_BR", "Portuguese"),
    LocaleList("mimesis", "pt", "Portuguese"),
    LocaleList("faker", "ru_RU", "Russian", romanize_russian),
    LocaleList("mimesis", "ru", "Russian", romanize_russian),
    LocaleList("faker", "es_ES", "Spanish"),
    LocaleList("mimesis", "es", "Spanish"),
    LocaleList("faker", "vi_VN", "Vietnamese"),
)
PACKAGE_LICENSES = {"faker": "MIT", "mimesis": "MIT"}


@dataclass(frozen=True)
class SourceName:
    """One surname as the source writes it (romanized), with its label and origin."""

    name: str
    label: str
    origin: str  # "faker:pl_PL"


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [str(key) for key in value]
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return []


def faker_surnames(locale: str, attribute: str | None = None) -> list[str]:
    """Surnames of one Faker locale, in the order Faker lists them (duplicates kept)."""
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    attributes = (attribute,) if attribute else FAKER_SURNAME_ATTRIBUTES
    return [name for attr in attributes for name in _strings(getattr(provider, attr, None))]


def mimesis_surnames(locale: str) -> list[str]:
    """Surnames of one Mimesis locale (its ``person.json``), all genders."""
    package = importlib.import_module("mimesis")
    path = Path(package.__file__ or "").parent / "datasets" / locale / "person.json"
    surnames = json.loads(path.read_text("utf-8"))["surnames"]
    if isinstance(surnames, dict):
        return [str(name) for group in surnames.values() for name in group]
    return _strings(surnames)


def read_locale(entry: LocaleList) -> list[SourceName]:
    """One table row's names, romanized where the row says so."""
    raw = (
        faker_surnames(entry.locale, entry.attribute)
        if entry.package == "faker"
        else mimesis_surnames(entry.locale)
    )
    romanize = entry.romanize or (lambda name: name)
    origin = f"{entry.package}:{entry.locale}"
    return [SourceName(romanize(name.strip()), entry.label, origin) for name in raw if name.strip()]


def read_sources(table: Iterable[LocaleList] = LOCALE_TABLE) -> list[SourceName]:
    """Every row of ``table``, in table order."""
    return [name for entry in table for name in read_locale(entry)]


def package_versions(table: Iterable[LocaleList] = LOCALE_TABLE) -> dict[str, str]:
    """Installed version of each package the table reads (recorded beside the list's sha256)."""
    return {package: importlib.metadata.version(package) for package in {e.package for e in table}}


def listing_sha256(names: Iterable[SourceName]) -> str:
    """sha256 of the romanized list as ``origin<TAB>label<TAB>name`` lines (what data/ records)."""
    text = "".join(f"{n.origin}\t{n.label}\t{n.name}\n" for n in names)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


RECORD = Path(__file__).resolve().parents[1] / "data" / "extra-sources.json"


def provenance(table: Iterable[LocaleList] = LOCALE_TABLE) -> dict[str, object]:
    """What ``data/extra-sources.json`` records: packages, licenses, the table, the sha256."""
    rows = list(table)
    names = read_sources(rows)
    counts: dict[str, int] = {}
    for name in names:
        counts[name.label] = counts.get(name.label, 0) + 1
    return {
        "packages": {
            package: {"version": version, "license": PACKAGE_LICENSES[package]}
            for package, version in sorted(package_versions(rows).items())
        },
        "locales": [
            {
                "package": row.package,
                "locale": row.locale,
                "label": row.label,
                "romanized": row.romanize.__name__ if row.romanize else None,
                "attribute": row.attribute,
            }
            for row in rows
        ],
        "names_per_label": dict(sorted(counts.items())),
        "names": len(names),
        "listing_sha256": listing_sha256(names),
    }


if __name__ == "__main__":
    RECORD.write_text(json.dumps(provenance(), indent=2, ensure_ascii=False) + "\n", "utf-8")
