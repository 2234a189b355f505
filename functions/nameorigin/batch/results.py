"""What a batch produces: one JSONL line per input name, and a summary that marks the batch done.

The line models document (and generate the schema of) what ``writer.ResultSpool`` writes; the spool
itself writes plain dicts because a million pydantic objects would cost more than the model does.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from nameorigin.core.classifier import Outcome, Prediction


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", protected_namespaces=())


class PredictionLine(_Frozen):
    """A classified name: labels most likely first, with natural-log and plain probabilities."""

    index: int = Field(ge=0, description="Position of the name in the input, from 0.")
    name: str
    labels: list[str]
    log_probabilities: list[float]
    probabilities: list[float]


class LineError(_Frozen):
    """Why one name has no labels (the name's problem, not the batch's)."""

    reason: str = Field(description="empty, too_long or no_letters")
    message: str


class RejectionLine(_Frozen):
    """A name that could not be classified; its line says why, its batch still succeeds."""

    index: int = Field(ge=0)
    name: str
    error: LineError


ResultLine = PredictionLine | RejectionLine


def result_line(index: int, outcome: Outcome) -> dict[str, object]:
    """The JSON object for one outcome (field for field a PredictionLine or RejectionLine)."""
    if isinstance(outcome, Prediction):
        return {
            "index": index,
            "name": outcome.name,
            "labels": list(outcome.labels),
            "log_probabilities": list(outcome.log_probabilities),
            "probabilities": list(outcome.probabilities),
        }
    return {
        "index": index,
        "name": outcome.name,
        "error": {"reason": str(outcome.reason), "message": outcome.message},
    }


class Problem(_Frozen):
    """A rejected name, repeated in the summary so nobody has to scan the results to find it."""

    index: int
    name: str
    reason: str
    message: str


class ModelInfo(_Frozen):
    """Which model produced the results."""

    version: str
    sha256: str


class ResultsObject(_Frozen):
    """Where the results are and how to check them (readers compare ``sha256``)."""

    bucket: str
    key: str
    bytes: int
    sha256: str
    lines: int


class Timings(_Frozen):
    """Seconds spent per phase of the batch (reading + classifying are interleaved by chunk)."""

    classify_seconds: float
    write_seconds: float
    total_seconds: float


class BatchSummary(_Frozen):
    """``results/<batch_id>.summary.json``: written last, so its presence means the batch is done.

    Readers check ``results.sha256`` against the results object they read.
    """

    batch_id: str
    message_sha256: str = Field(
        description="sha256 of the message content without batch_id; a different message reusing "
        "a batch_id is refused instead of overwriting these results."
    )
    source: str = Field(description="'inline' or the claim-check s3:// URI")
    source_etag: str | None = None
    top_k: int
    count: int = Field(description="Names in the input, equal to results.lines")
    classified: int
    rejected: int
    rejected_by_reason: dict[str, int]
    problems: list[Problem] = Field(description="The first rejected names (see problems_truncated)")
    problems_truncated: bool
    model: ModelInfo
    results: ResultsObject
    started_at: datetime
    finished_at: datetime
    timings: Timings
    already_done: bool = Field(
        default=False,
        description="Set only on what run_batch returns for a redelivered message whose results "
        "already existed (nothing was written); always false in the stored object.",
    )
