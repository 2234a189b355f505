"""One classifier per process; readiness reflects whether it loaded, and why not."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from nameorigin import model_store
from nameorigin.config import Settings
from nameorigin.core.manifest import ArtifactError


@pytest.fixture(autouse=True)
def fresh_store() -> Iterator[None]:
    model_store.reset_for_tests()
    yield
    model_store.reset_for_tests()


def test_not_ready_before_loading() -> None:
    assert not model_store.is_ready()
    with pytest.raises(model_store.ModelNotReadyError, match="still loading"):
        model_store.current()


def test_loads_once_even_when_raced(committed_model_dir: Path) -> None:
    settings = Settings(model_dir=committed_model_dir)
    loaded = []
    threads = [
        threading.Thread(target=lambda: loaded.append(model_store.load(settings))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(classifier) for classifier in loaded}) == 1
    assert model_store.is_ready()
    assert model_store.current() is loaded[0]


def test_a_failed_load_is_remembered(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError):
        model_store.load(Settings(model_dir=tmp_path))
    assert not model_store.is_ready()
    assert "no manifest" in (model_store.load_error() or "")
    with pytest.raises(model_store.ModelNotReadyError, match="no manifest"):
        model_store.current()
