"""The process's one Classifier: loaded once, shared by every adapter, and the source of readiness.

Lambda adapters call ``load()`` at import time so the model loads in the init phase, before the
first request. The HTTP process calls it from a startup thread and reports ready only once it has
succeeded, so Knative never routes traffic to a process without a working model.
"""

from __future__ import annotations

import threading

from nameorigin.config import Settings
from nameorigin.core.classifier import Classifier


class ModelNotReadyError(RuntimeError):
    """The model is not loaded (yet, or at all: ``reason`` says which)."""


_lock = threading.Lock()
_classifier: Classifier | None = None
_load_error: str | None = None


def load(settings: Settings | None = None) -> Classifier:
    """Load the classifier once per process (thread-safe); later calls return the same object.

    A failed load is remembered (for readiness to report) and re-raised.
    """
    global _classifier, _load_error  # noqa: PLW0603 - one model per process, by design
    with _lock:
        if _classifier is not None:
            return _classifier
        settings = settings or Settings.from_environ()
        try:
            _classifier = Classifier.load(
                settings.model_dir,
                intra_op_threads=settings.intra_op_threads,
                max_name_length=settings.max_name_length,
                bucket_size=settings.bucket_size,
            )
        except Exception as error:
            _load_error = f"{type(error).__name__}: {error}"
            raise
        _load_error = None
        return _classifier


def current() -> Classifier:
    """The loaded classifier, or ModelNotReadyError saying why there is none."""
    if _classifier is None:
        raise ModelNotReadyError(_load_error or "the model is still loading")
    return _classifier


def is_ready() -> bool:
    """True once a classifier has loaded successfully."""
    return _classifier is not None


def load_error() -> str | None:
    """Why the last load failed, if it did."""
    return _load_error


def reset_for_tests() -> None:
    """Forget the loaded model (tests only: lets one process try several artifacts)."""
    global _classifier, _load_error  # noqa: PLW0603
    with _lock:
        _classifier = None
        _load_error = None
