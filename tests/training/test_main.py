"""The command line: one ``error:`` line and a non-zero status for every expected failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.__main__ import EXIT_FAILED, main, parse_arguments
from training.train import TrainingConfig


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(argv)
    return status, capsys.readouterr().err


def test_missing_data_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, error = _run(["--data-dir", str(tmp_path / "nope")], capsys)
    assert status == EXIT_FAILED
    assert error.startswith("error: data folder")
    assert error.count("\n") == 1


def test_no_data_folder_configured(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("NAMEORIGIN_DATA_DIR", raising=False)
    status, error = _run([], capsys)
    assert status == EXIT_FAILED
    assert "NAMEORIGIN_DATA_DIR" in error


def test_non_utf8_file_names_the_file(
    tiny_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tiny_data_dir / "Gamma.txt").write_bytes(b"G\xf6mez\n")
    arguments = ["--data-dir", str(tiny_data_dir), "--artifacts-dir", str(tmp_path / "out")]
    status, error = _run(arguments, capsys)
    assert status == EXIT_FAILED
    assert "Gamma.txt is not UTF-8" in error
    assert error.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_every_training_option_is_a_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, error = _run(
        ["--data-dir", str(tmp_path), "--hidden-size", "8", "--label-smoothing", "0.1"], capsys
    )
    assert status == EXIT_FAILED  # empty folder; the flags themselves were accepted
    assert "holds no .txt files" in error


def test_a_switch_can_be_turned_off_and_on() -> None:
    assert TrainingConfig().naive_bayes_head
    assert not parse_arguments(["--no-naive-bayes-head"]).naive_bayes_head
    assert parse_arguments(["--naive-bayes-head"]).naive_bayes_head
    assert parse_arguments([]).naive_bayes_head
