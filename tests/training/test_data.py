"""Loading: tolerated quirks (BOM, CRLF, blank lines, duplicates) and refused folders."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from nameorigin.core.normalization import DEFAULT_RULE
from training.data import DataError, data_files, data_sha256, load_names


def test_bom_crlf_blank_lines_and_padding_are_tolerated(tmp_path: Path) -> None:
    (tmp_path / "Czech.txt").write_bytes("\ufeffDvořák\r\n\r\n  Novák  \r\n".encode())
    (tmp_path / "German.txt").write_bytes(b"M\xc3\xbcller\n\n\n")
    dataset = load_names(tmp_path)
    assert dataset.labels == ("Czech", "German")
    assert list(zip(dataset.names, dataset.targets.tolist(), strict=True)) == [
        ("dvorak", 0),
        ("novak", 0),
        ("muller", 1),
    ]
    assert dataset.lines_read == 3


def test_names_are_folded_by_the_shared_rule(tiny_data_dir: Path) -> None:
    (tiny_data_dir / "Alpha.txt").write_text("Łukasz-Śmigły\nO'Brien\n", encoding="utf-8")
    names = load_names(tiny_data_dir).names
    assert DEFAULT_RULE.normalize("Łukasz-Śmigły") in names
    assert "lukasz-smigly" in names
    assert "o'brien" in names


def test_exact_duplicates_are_dropped_but_multi_label_names_kept(tmp_path: Path) -> None:
    (tmp_path / "English.txt").write_text("Abel\nAbel\nABEL\nSmith\n", encoding="utf-8")
    (tmp_path / "French.txt").write_text("Abel\n", encoding="utf-8")
    dataset = load_names(tmp_path)
    pairs = list(zip(dataset.names, dataset.targets.tolist(), strict=True))
    assert pairs == [("abel", 0), ("smith", 0), ("abel", 1)]
    assert dataset.class_counts() == {"English": 2, "French": 1}


def test_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_names(tmp_path / "nowhere")


def test_empty_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("not data", encoding="utf-8")
    with pytest.raises(DataError, match=r"holds no \.txt files"):
        load_names(tmp_path)


def test_non_utf8_file_is_refused_naming_the_file(tiny_data_dir: Path) -> None:
    (tiny_data_dir / "Beta.txt").write_bytes("Müller\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"Beta\.txt is not UTF-8"):
        load_names(tiny_data_dir)


@pytest.mark.parametrize("content", ["", "\n \r\n\t\n", "---\n'\n"])
def test_label_without_names_is_refused(tiny_data_dir: Path, content: str) -> None:
    (tiny_data_dir / "Empty.txt").write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match="label 'Empty' has no names"):
        load_names(tiny_data_dir)


def test_a_single_label_is_refused(tmp_path: Path) -> None:
    (tmp_path / "Only.txt").write_text("Smith\n", encoding="utf-8")
    with pytest.raises(DataError, match="at least 2"):
        load_names(tmp_path)


def test_fingerprint_is_the_sha256_of_the_sha256sum_listing(tiny_data_dir: Path) -> None:
    listing = "".join(
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n"
        for path in sorted(tiny_data_dir.glob("*.txt"))
    )
    expected = hashlib.sha256(listing.encode()).hexdigest()
    assert data_sha256(data_files(tiny_data_dir)) == expected
    assert load_names(tiny_data_dir).sha256 == expected


def test_fingerprint_changes_with_a_single_byte(tiny_data_dir: Path) -> None:
    before = load_names(tiny_data_dir).sha256
    with (tiny_data_dir / "Alpha.txt").open("a", encoding="utf-8") as handle:
        handle.write("Extraov\n")
    assert load_names(tiny_data_dir).sha256 != before
