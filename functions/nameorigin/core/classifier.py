"""The model behind every front door: load once, classify batches of names, answer top-k.

Adapters (API Gateway, SQS, HTTP) only translate requests into ``Classifier.classify`` calls and
results back into responses; nothing about the model lives anywhere else.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from nameorigin.core.encoding import CharacterEncoder
from nameorigin.core.manifest import (
    LENGTHS_INPUT,
    LOG_PROBABILITIES_OUTPUT,
    TOKENS_INPUT,
    ArtifactError,
    Manifest,
    load_manifest,
)

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


class RejectionReason(StrEnum):
    """Why a single name cannot be classified (the client's input, not the service, is at fault)."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    NO_LETTERS = "no_letters"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A name that was not classified, with a message a person can act on."""

    name: str
    reason: RejectionReason
    message: str


@dataclass(frozen=True, slots=True)
class Prediction:
    """Top-k labels for one name, most likely first, with natural-log probabilities."""

    name: str
    labels: tuple[str, ...]
    log_probabilities: tuple[float, ...]

    @property
    def probabilities(self) -> tuple[float, ...]:
        """The same scores as probabilities in [0, 1]."""
        return tuple(math.exp(value) for value in self.log_probabilities)


Outcome = Prediction | Rejection


def create_session(model_path: Path, intra_op_threads: int) -> ort.InferenceSession:
    """An onnxruntime CPU session with explicit threading (auto-detection fails on Lambda)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # onnxruntime raises several unrelated types for a bad file
        raise ArtifactError(f"onnxruntime cannot load {model_path}: {error}") from error


class Classifier:
    """An ONNX name classifier plus the manifest that says how to feed it and read it."""

    def __init__(
        self,
        session: ort.InferenceSession,
        manifest: Manifest,
        *,
        max_name_length: int | None = None,
        bucket_size: int = 256,
        batch_threads: int = 1,
    ) -> None:
        self.session = session
        self.manifest = manifest
        self.labels: tuple[str, ...] = tuple(manifest.labels)
        self.rule = manifest.rule
        self.encoder = CharacterEncoder(self.rule.alphabet)
        #: The manifest's ceiling (what training covered), or a lower limit the deployment chose.
        self.max_name_length = min(
            max_name_length or manifest.max_name_length, manifest.max_name_length
        )
        self.bucket_size = bucket_size
        #: Buckets of one batch run on this many threads at once (onnxruntime releases the GIL).
        self.batch_threads = batch_threads
        self._pool: ThreadPoolExecutor | None = None
        self._check_interface()

    @classmethod
    def load(
        cls,
        model_dir: Path,
        *,
        intra_op_threads: int = 1,
        max_name_length: int | None = None,
        bucket_size: int = 256,
        batch_threads: int = 1,
    ) -> Classifier:
        """Load manifest and model from ``model_dir``; raises ArtifactError if they do not match."""
        manifest = load_manifest(model_dir)
        session = create_session(model_dir / manifest.model_file, intra_op_threads)
        return cls(
            session,
            manifest,
            max_name_length=max_name_length,
            bucket_size=bucket_size,
            batch_threads=batch_threads,
        )

    def _check_interface(self) -> None:
        inputs = [node.name for node in self.session.get_inputs()]
        outputs = [node.name for node in self.session.get_outputs()]
        if sorted(inputs) != sorted([TOKENS_INPUT, LENGTHS_INPUT]):
            raise ArtifactError(f"model inputs {inputs} do not match the manifest")
        if outputs != [LOG_PROBABILITIES_OUTPUT]:
            raise ArtifactError(f"model outputs {outputs} do not match the manifest")

    def normalize(self, name: str) -> str | Rejection:
        """Apply the manifest's rule, or say why the name cannot be classified."""
        stripped = name.strip()
        if not stripped:
            return Rejection(name, RejectionReason.EMPTY, "name is empty or only white space")
        if len(stripped) > self.max_name_length:
            return Rejection(
                name,
                RejectionReason.TOO_LONG,
                f"name is {len(stripped)} characters long; the limit is {self.max_name_length}",
            )
        normalized = self.rule.normalize(stripped)
        if not self.rule.has_letters(normalized):
            return Rejection(
                name,
                RejectionReason.NO_LETTERS,
                "name has no letters left after normalization to the model's alphabet; it "
                f"reads {self.rule.scripts_read()}",
            )
        return normalized

    def log_probabilities(self, normalized: Sequence[str]) -> FloatArray:
        """Calibrated log-probabilities ``[len(normalized), labels]`` in input order.

        Names are sorted by length and run in buckets of ``bucket_size`` so that a large batch pays
        for the padding of similar-length neighbours only, not of its single longest name. With
        ``batch_threads`` > 1 the buckets run concurrently: onnxruntime releases the GIL, so each
        thread keeps one core busy, where more intra-op threads per run measured no faster.
        """
        if not normalized:
            return np.empty((0, len(self.labels)), dtype=np.float32)
        tokens, lengths = self.encoder.encode(normalized)
        if len(normalized) <= self.bucket_size:  # one run: sorting would buy nothing
            return self._run(tokens, lengths)
        result = np.empty((len(normalized), len(self.labels)), dtype=np.float32)
        order = np.argsort(lengths, kind="stable")
        buckets = [order[i : i + self.bucket_size] for i in range(0, len(order), self.bucket_size)]

        def run_bucket(bucket: IntArray) -> FloatArray:
            width = int(lengths[bucket[-1]])  # sorted ascending: the last name is the longest
            return self._run(tokens[bucket, :width], lengths[bucket])

        scores: Iterator[FloatArray] = (
            self._executor().map(run_bucket, buckets)
            if self.batch_threads > 1 and len(buckets) > 1
            else map(run_bucket, buckets)
        )
        for bucket, bucket_scores in zip(buckets, scores, strict=True):
            result[bucket] = bucket_scores
        return result

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:  # made on the first big batch: single names never pay for it
            self._pool = ThreadPoolExecutor(self.batch_threads, thread_name_prefix="buckets")
        return self._pool

    def _run(self, tokens: IntArray, lengths: IntArray) -> FloatArray:
        (scores,) = self.session.run(
            [LOG_PROBABILITIES_OUTPUT], {TOKENS_INPUT: tokens, LENGTHS_INPUT: lengths}
        )
        return np.asarray(scores, dtype=np.float32)

    def top_k(self, scores: FloatArray, k: int) -> tuple[npt.NDArray[np.intp], FloatArray]:
        """Indices and values of the k best labels per row, best first (ties: lower index first)."""
        self._check_k(k)
        best = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return best, scores[np.arange(len(scores))[:, np.newaxis], best]

    def _check_k(self, k: int) -> None:
        """k outside 1..labels is a caller bug (routes answer 422 before reaching here)."""
        if not 1 <= k <= len(self.labels):
            raise ValueError(f"k must be between 1 and {len(self.labels)}, got {k}")

    def classify(self, names: Sequence[str], top_k: int) -> list[Outcome]:
        """Classify names in one batched pass; each name yields a Prediction or a Rejection."""
        if len(names) == 1:
            return [self._classify_one(names[0], top_k)]
        prepared = [self.normalize(name) for name in names]
        valid_positions = [i for i, item in enumerate(prepared) if isinstance(item, str)]
        scores = self.log_probabilities([str(prepared[i]) for i in valid_positions])
        best, values = self.top_k(scores, top_k)
        outcomes: list[Outcome | None] = [
            item if isinstance(item, Rejection) else None for item in prepared
        ]
        labels = self.labels
        # Python lists once, not numpy scalars per name: a third of a 10k batch's Python time
        best_rows: list[list[int]] = best.tolist()
        value_rows: list[list[float]] = values.tolist()
        for row, position in enumerate(valid_positions):
            outcomes[position] = Prediction(
                name=names[position],
                labels=tuple(labels[index] for index in best_rows[row]),
                log_probabilities=tuple(value_rows[row]),
            )
        return [outcome for outcome in outcomes if outcome is not None]

    def _classify_one(self, name: str, top_k: int) -> Outcome:
        """``classify`` for one name (most API requests) without the batch bookkeeping."""
        normalized = self.normalize(name)
        if isinstance(normalized, Rejection):
            return normalized
        self._check_k(top_k)
        # One row of 18 scores: ranked as a Python list, not by numpy. Inside a request (between
        # the resolver's and the server's code) every numpy call runs with cold caches, and this
        # measured faster there (same-process A/B through the resolver), no different in a tight
        # loop. ``sorted`` is stable with ``reverse``: equal scores keep label order, as ``top_k``.
        values: list[float] = self._run(*self.encoder.encode_one(normalized))[0].tolist()
        best = sorted(range(len(values)), key=values.__getitem__, reverse=True)[:top_k]
        labels = self.labels
        return Prediction(
            name=name,
            labels=tuple(labels[index] for index in best),
            log_probabilities=tuple(values[index] for index in best),
        )
