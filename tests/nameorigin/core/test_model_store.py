"""One classifier per process; readiness reflects whether it loaded, and why not."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from nameorigin.config import Settings
from nameorigin.core.manifest import ArtifactError
from nameorigin.core.model_store import ModelNotReadyError, ModelStore


def test_not_ready_before_loading(committed_model_dir: Path) -> None:
    store = ModelStore(Settings(model_dir=committed_model_dir))
    assert not store.is_ready()
    with pytest.raises(ModelNotReadyError, match="still loading"):
        store.current()


def test_loads_once_even_when_raced(committed_model_dir: Path) -> None:
    store = ModelStore(Settings(model_dir=committed_model_dir))
    loaded = []
    threads = [threading.Thread(target=lambda: loaded.append(store.load())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(classifier) for classifier in loaded}) == 1
    assert store.is_ready()
    assert store.current() is loaded[0]


def test_a_failed_load_is_remembered(tmp_path: Path) -> None:
    store = ModelStore(Settings(model_dir=tmp_path))
    with pytest.raises(ArtifactError):
        store.load()
    assert not store.is_ready()
    assert "no manifest" in (store.load_error() or "")
    with pytest.raises(ModelNotReadyError, match="no manifest"):
        store.current()


def test_each_store_holds_its_own_model(committed_model_dir: Path, tmp_path: Path) -> None:
    loaded = ModelStore(Settings(model_dir=committed_model_dir))
    loaded.load()
    empty = ModelStore(Settings(model_dir=tmp_path))

    assert loaded.is_ready()
    assert not empty.is_ready()
