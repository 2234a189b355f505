"""make data: the archive's files are verified against the committed sums before they land."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from training.fetch_data import SUMS_FILE, FetchError, fetch, main, read_sums

FILES = {"Czech.txt": "Novák\n".encode(), "German.txt": b"Schmidt\n"}


def _archive(tmp_path: Path, files: dict[str, bytes]) -> str:
    path = tmp_path / "data.zip"
    with zipfile.ZipFile(path, "w") as bundle:
        for name, content in files.items():
            bundle.writestr(f"data/names/{name}", content)
        bundle.writestr("data/eng-fra.txt", "ignored")
    return path.as_uri()


def _sums(tmp_path: Path) -> Path:
    path = tmp_path / "names.sha256"
    path.write_text(
        "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in FILES.items())
    )
    return path


def test_committed_sums_list_the_eighteen_files() -> None:
    sums = read_sums(SUMS_FILE)
    assert len(sums) == 18
    assert "Vietnamese.txt" in sums
    assert all(len(digest) == 64 for digest in sums.values())


def test_matching_archive_is_unpacked(tmp_path: Path) -> None:
    into = fetch(_archive(tmp_path, FILES), tmp_path / "names", _sums(tmp_path))
    assert sorted(path.name for path in into.iterdir()) == sorted(FILES)
    assert (into / "Czech.txt").read_bytes() == FILES["Czech.txt"]


def test_tampered_archive_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    archive = _archive(tmp_path, {**FILES, "German.txt": b"Schmitt\n"})
    with pytest.raises(FetchError, match=r"German\.txt has sha256"):
        fetch(archive, tmp_path / "names", _sums(tmp_path))
    assert not (tmp_path / "names").exists()


def test_cli_reports_a_bad_copy_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "names"
    folder.mkdir()
    (folder / "Czech.txt").write_bytes(FILES["Czech.txt"])
    status = main(["--verify-only", "--into", str(folder), "--sums", str(_sums(tmp_path))])
    assert status == 1
    assert capsys.readouterr().err.strip().count("\n") == 0


def test_committed_model_was_trained_on_the_files_these_sums_describe(
    committed_model_dir: Path,
) -> None:
    manifest = json.loads((committed_model_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["data_sha256"] == hashlib.sha256(SUMS_FILE.read_bytes()).hexdigest()
