"""The batch message contract: what a producer puts on the queue (or POSTs as a CloudEvent).

Two shapes, told apart by their fields: ``names`` (inline, within SQS's message size limit) or
``s3_uri`` (claim check: a txt / CSV / JSONL file of names). Everything a message can be is defined
here once; ``schemas/batch-message.schema.json`` is generated from these models and a test keeps the
two in step, so producers in other languages validate against exactly what the worker accepts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nameorigin.config import DEFAULT_MAX_BATCH_NAMES, DEFAULT_TOP_K, SQS_MESSAGE_LIMIT_BYTES

#: A batch id is one S3 key segment: no slashes, nothing that needs escaping.
BATCH_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
S3_URI_PATTERN = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$"
#: Prefix of ids derived from a message's content (so they never collide with chosen ids).
DERIVED_ID_PREFIX = "auto-"


class InvalidBatchMessageError(ValueError):
    """The message itself is wrong; retrying cannot help (SQS: ends in the DLQ; HTTP: a 4xx).

    ``reason`` is the sentence to show a person: it names the field, the limit or the line at fault.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FileFormat(StrEnum):
    """How a claim-check file lists its names."""

    TXT = "txt"
    CSV = "csv"
    JSONL = "jsonl"


_EXTENSION_FORMATS = {
    ".txt": FileFormat.TXT,
    ".text": FileFormat.TXT,
    ".csv": FileFormat.CSV,
    ".jsonl": FileFormat.JSONL,
    ".ndjson": FileFormat.JSONL,
}


class _BatchFields(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    batch_id: str | None = Field(
        default=None,
        pattern=BATCH_ID_PATTERN,
        description=(
            "Names the results object results/<batch_id>.jsonl. Optional: when absent it is "
            "derived from the message's content, so a resent identical message maps to the "
            "same results."
        ),
    )
    top_k: int = Field(
        default=DEFAULT_TOP_K,
        ge=1,
        description="How many labels (most likely first) each result line carries; at most the "
        "model's label count.",
    )


class InlineBatch(_BatchFields):
    """Names carried in the message itself (the whole message within the inline size limit)."""

    names: list[str] = Field(
        min_length=1,
        description="Names to classify, results in the same order; at most "
        f"NAMEORIGIN_MAX_BATCH_NAMES (default {DEFAULT_MAX_BATCH_NAMES}).",
    )


class ReferenceBatch(_BatchFields):
    """A claim check: the names live in an S3 object, streamed and classified in chunks."""

    s3_uri: str = Field(
        pattern=S3_URI_PATTERN,
        description="s3://bucket/key of a text (one name a line), CSV (a 'name' column, or the "
        "first column) or JSONL (strings or objects with 'name') file, UTF-8.",
    )
    format: FileFormat | None = Field(
        default=None,
        description="File format; by default taken from the key's extension "
        "(.txt/.text, .csv, .jsonl/.ndjson).",
    )

    @property
    def bucket(self) -> str:
        """The bucket part of ``s3_uri``."""
        return self.s3_uri.removeprefix("s3://").split("/", 1)[0]

    @property
    def key(self) -> str:
        """The key part of ``s3_uri``."""
        return self.s3_uri.removeprefix("s3://").split("/", 1)[1]

    def resolved_format(self) -> FileFormat:
        """The explicit format, else the one the key's extension implies."""
        if self.format is not None:
            return self.format
        suffix = PurePosixPath(self.key).suffix.lower()
        try:
            return _EXTENSION_FORMATS[suffix]
        except KeyError:
            known = ", ".join(sorted(_EXTENSION_FORMATS))
            raise InvalidBatchMessageError(
                f"cannot tell the format of {self.s3_uri!r} from its extension ({known}); "
                "set 'format' to txt, csv or jsonl"
            ) from None


BatchMessage = InlineBatch | ReferenceBatch


def parse_message(
    body: str | bytes | Mapping[str, Any],
    *,
    max_message_bytes: int = SQS_MESSAGE_LIMIT_BYTES,
    max_batch_names: int = DEFAULT_MAX_BATCH_NAMES,
) -> BatchMessage:
    """Validate a raw message; any fault raises InvalidBatchMessageError saying what and where."""
    if isinstance(body, Mapping):
        data: Any = dict(body)
        size = len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
    else:
        raw = body.encode() if isinstance(body, str) else body
        size = len(raw)
        if size > max_message_bytes:
            raise _oversize(size, max_message_bytes)
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as error:  # also a number too long, a nesting bomb
            raise InvalidBatchMessageError(f"message is not valid JSON: {error}") from error
    if size > max_message_bytes:
        raise _oversize(size, max_message_bytes)
    if not isinstance(data, dict):
        raise InvalidBatchMessageError(f"message must be a JSON object, got {type(data).__name__}")
    has_names, has_uri = "names" in data, "s3_uri" in data
    if has_names == has_uri:
        raise InvalidBatchMessageError(
            "a message carries exactly one of 'names' (inline) or 's3_uri' (claim check)"
            + (", not both" if has_names else "")
        )
    model: type[InlineBatch] | type[ReferenceBatch] = InlineBatch if has_names else ReferenceBatch
    try:
        message = model.model_validate(data)
    except ValidationError as error:
        raise InvalidBatchMessageError(_describe(error)) from error
    if isinstance(message, InlineBatch) and len(message.names) > max_batch_names:
        raise InvalidBatchMessageError(
            f"message carries {len(message.names)} names; the inline limit is {max_batch_names}: "
            "split it or send an s3_uri"
        )
    return message


def _oversize(size: int, limit: int) -> InvalidBatchMessageError:
    return InvalidBatchMessageError(
        f"message is {size} bytes; inline messages are limited to {limit} bytes: "
        "upload the names and send an s3_uri instead"
    )


def _describe(error: ValidationError) -> str:
    """Pydantic's errors as one line per problem: ``field: message``."""
    problems = []
    for item in error.errors(include_url=False)[:5]:
        location = ".".join(str(part) for part in item["loc"]) or "message"
        problems.append(f"{location}: {item['msg']}")
    more = error.error_count() - len(problems)
    return "invalid message: " + "; ".join(problems) + (f" (+{more} more)" if more > 0 else "")


def content_digest(message: BatchMessage) -> str:
    """sha256 of the message's content without its batch id (stable across resends and spacing)."""
    canonical = message.model_dump(mode="json", exclude={"batch_id"})
    canonical["kind"] = type(message).__name__
    text = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def batch_id_of(message: BatchMessage) -> str:
    """The message's own batch id, or one derived deterministically from its content."""
    if message.batch_id is not None:
        return message.batch_id
    return DERIVED_ID_PREFIX + content_digest(message)[:32]
