"""Read names out of a claim-check file as a stream: memory stays flat however long the file is.

Formats (UTF-8, a byte-order mark is tolerated):

- ``txt``: one name a line; a blank line is an (empty) name, so line N is always result N.
- ``csv``: the column whose header is ``name`` (any case); without such a header, the first column
  of every row (the first row included). A blank row or a missing cell is an empty name.
- ``jsonl``: one JSON value a line, either a string or an object with a string ``name``; blank
  lines are skipped.

A file that breaks its format (bad JSON line, invalid UTF-8) raises InvalidBatchMessageError with
the line number: the file is the message's payload, so this is a poison message, not a per-name
problem.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import IO, Any, Protocol

from nameorigin.batch.messages import FileFormat, InvalidBatchMessageError

NAME_COLUMN = "name"
#: Longest line accepted (names are at most a few dozen characters): bounds memory on broken files.
MAX_LINE_CHARS = 65_536


class ByteStream(Protocol):
    """Anything with ``read(size)``: an open file, an S3 ``StreamingBody``."""

    def read(self, amt: int | None = ..., /) -> bytes: ...


def iter_names(stream: ByteStream, file_format: FileFormat) -> Iterator[str]:
    """Yield the names of a binary stream in file order."""
    buffered = io.BufferedReader(_RawReader(stream), buffer_size=1 << 20)
    text = io.TextIOWrapper(buffered, encoding="utf-8-sig", newline="")
    readers = {FileFormat.TXT: _txt, FileFormat.CSV: _csv, FileFormat.JSONL: _jsonl}
    try:
        yield from readers[file_format](text)
    except UnicodeDecodeError as error:
        raise InvalidBatchMessageError(f"the file is not valid UTF-8: {error}") from error
    except csv.Error as error:
        raise InvalidBatchMessageError(f"the CSV file is malformed: {error}") from error


class _RawReader(io.RawIOBase):
    """Adapts any ByteStream to the raw-IO interface the standard text stack is built on."""

    def __init__(self, stream: ByteStream) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _lines(text: IO[str]) -> Iterator[tuple[int, str]]:
    """Numbered lines without their ending, refusing any longer than MAX_LINE_CHARS."""
    number = 0
    while line := text.readline(MAX_LINE_CHARS + 2):
        number += 1
        stripped = line.rstrip("\r\n")
        if len(stripped) > MAX_LINE_CHARS:
            raise InvalidBatchMessageError(
                f"line {number} is longer than {MAX_LINE_CHARS} characters: not a names file"
            )
        yield number, stripped


def _txt(text: IO[str]) -> Iterator[str]:
    for _, line in _lines(text):
        yield line


def _csv(text: IO[str]) -> Iterator[str]:
    rows: Iterator[list[str]] = csv.reader(text)
    first = next(rows, None)
    if first is None:
        return
    headers = [cell.strip().lower() for cell in first]
    if NAME_COLUMN in headers:
        column = headers.index(NAME_COLUMN)
    else:
        column = 0
        rows = _prepend(first, rows)
    for row in rows:
        yield row[column] if column < len(row) else ""


def _prepend(first: list[str], rows: Iterator[list[str]]) -> Iterator[list[str]]:
    yield first
    yield from rows


def _jsonl(text: IO[str]) -> Iterator[str]:
    for number, line in _lines(text):
        if not line.strip():
            continue
        try:
            value: Any = json.loads(line)
        except (ValueError, RecursionError) as error:  # also a number too long, a nesting bomb
            raise InvalidBatchMessageError(f"line {number} is not valid JSON: {error}") from error
        if isinstance(value, dict):
            value = value.get(NAME_COLUMN)
        if not isinstance(value, str):
            raise InvalidBatchMessageError(
                f"line {number} must be a JSON string or an object with a string 'name'"
            )
        yield value


def chunked(names: Iterable[str], size: int) -> Iterator[list[str]]:
    """Consecutive lists of at most ``size`` names (the unit classified and written at once)."""
    iterator = iter(names)
    while chunk := list(islice(iterator, size)):
        yield chunk
