"""The process's one Classifier: loaded once, shared by every route, and the source of readiness.

Each entry point makes one ``ModelStore`` from its settings and hands it to what needs the model.
Lambda entry points load at import time so the model loads in the init phase, before the first
request (the API function with ``load_in_background``, overlapping its other imports). The HTTP
server loads it from a startup thread and reports ready only once it has succeeded, so Knative
never routes traffic to a process without a working model.
"""

from __future__ import annotations

import contextlib
import threading

from nameorigin.config import Settings
from nameorigin.core.classifier import Classifier


class ModelNotReadyError(RuntimeError):
    """The model is not loaded (yet, or at all: ``reason`` says which)."""


class ModelStore:
    """Loads the classifier the settings describe, once (thread-safe), and says whether it has."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._classifier: Classifier | None = None
        self._load_error: str | None = None

    def load(self) -> Classifier:
        """Load the classifier once; later calls return the same object.

        A failed load is remembered (for readiness to report) and re-raised.
        """
        with self._lock:
            if self._classifier is not None:
                return self._classifier
            settings = self.settings
            try:
                self._classifier = Classifier.load(
                    settings.model_dir,
                    intra_op_threads=settings.intra_op_threads,
                    max_name_length=settings.max_name_length,
                    bucket_size=settings.bucket_size,
                    batch_threads=settings.batch_threads,
                )
            except Exception as error:
                self._load_error = f"{type(error).__name__}: {error}"
                raise
            self._load_error = None
            return self._classifier

    def load_in_background(self) -> threading.Thread:
        """Start ``load`` in a thread and return it (join it before serving).

        onnxruntime builds the session in C++ without the GIL, so an entry point that goes on
        importing (Powertools, pydantic, the routes) overlaps that work with the model's load. A
        failure is kept for ``load_error``/readiness, exactly as with ``load``.
        """

        def load_quietly() -> None:
            with contextlib.suppress(Exception):  # remembered in _load_error; 503 says why
                self.load()

        thread = threading.Thread(target=load_quietly, name="model-loader", daemon=True)
        thread.start()
        return thread

    def current(self) -> Classifier:
        """The loaded classifier, or ModelNotReadyError saying why there is none."""
        if self._classifier is None:
            raise ModelNotReadyError(self._load_error or "the model is still loading")
        return self._classifier

    def is_ready(self) -> bool:
        """True once a classifier has loaded successfully."""
        return self._classifier is not None

    def load_error(self) -> str | None:
        """Why the last load failed, if it did."""
        return self._load_error

    @classmethod
    def of(cls, classifier: Classifier, settings: Settings) -> ModelStore:
        """A store already holding ``classifier`` (a caller that loaded it itself)."""
        store = cls(settings)
        store._classifier = classifier
        return store
