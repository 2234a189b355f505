"""Settings come from the environment with documented defaults, and bad values are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from nameorigin.config import REPOSITORY_MODEL_DIR, ConfigError, Settings, default_model_dir


def test_defaults_without_environment() -> None:
    settings = Settings.from_environ({})
    assert settings.model_dir == default_model_dir()
    assert settings.intra_op_threads == 1
    assert settings.max_name_length is None  # the manifest's limit applies
    assert settings.bucket_size == 256
    assert (settings.batch_threads, settings.http_workers, settings.batch_processes) == (1, 2, 1)


def test_a_checkout_serves_the_committed_artifact() -> None:
    assert default_model_dir() == REPOSITORY_MODEL_DIR
    assert (REPOSITORY_MODEL_DIR / "manifest.json").is_file()


def test_environment_overrides(tmp_path: Path) -> None:
    settings = Settings.from_environ(
        {
            "NAMEORIGIN_MODEL_DIR": str(tmp_path),
            "NAMEORIGIN_INTRA_OP_THREADS": "2",
            "NAMEORIGIN_MAX_NAME_LENGTH": "32",
            "NAMEORIGIN_BUCKET_SIZE": " ",
            "NAMEORIGIN_BATCH_THREADS": "2",
            "NAMEORIGIN_HTTP_WORKERS": "1",
            "NAMEORIGIN_BATCH_PROCESSES": "3",
        }
    )
    assert (settings.batch_threads, settings.http_workers, settings.batch_processes) == (2, 1, 3)
    assert settings.model_dir == tmp_path
    assert settings.intra_op_threads == 2
    assert settings.max_name_length == 32
    assert settings.bucket_size == 256


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("NAMEORIGIN_INTRA_OP_THREADS", "two", "must be an integer"),
        ("NAMEORIGIN_MAX_NAME_LENGTH", "0", "must be >= 1"),
        ("NAMEORIGIN_HTTP_WORKERS", "0", "must be >= 1"),
    ],
)
def test_unusable_values_name_the_variable(key: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"{key} {message}"):
        Settings.from_environ({key: value})


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("ON", True), ("0", False), ("", False)]
)
def test_tracing_switch(raw: str, expected: bool) -> None:
    assert Settings.from_environ({"NAMEORIGIN_TRACING": raw}).tracing is expected


def test_tracing_switch_refuses_other_words() -> None:
    with pytest.raises(ConfigError, match="NAMEORIGIN_TRACING must be true or false"):
        Settings.from_environ({"NAMEORIGIN_TRACING": "sometimes"})
