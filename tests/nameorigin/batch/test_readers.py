"""Name files: each format read as a stream, every line accounted for, bad files refused."""

from __future__ import annotations

import io

import pytest

from nameorigin.batch.messages import FileFormat, InvalidBatchMessageError
from nameorigin.batch.readers import MAX_LINE_CHARS, chunked, iter_names


class TrickleStream:
    """A stream that hands out a few bytes per read, like a slow network body."""

    def __init__(self, data: bytes, step: int = 3) -> None:
        self.data, self.position, self.step = data, 0, step

    def read(self, amt: int | None = None, /) -> bytes:
        size = self.step if amt is None else min(amt, self.step)
        block = self.data[self.position : self.position + size]
        self.position += len(block)
        return block


def read(data: bytes, file_format: FileFormat) -> list[str]:
    return list(iter_names(TrickleStream(data), file_format))


def test_txt_keeps_every_line_even_blank_ones_and_strips_line_endings() -> None:
    data = "\ufeffJordan\r\nNguyễn\n\nO'Brien\n".encode()
    assert read(data, FileFormat.TXT) == ["Jordan", "Nguyễn", "", "O'Brien"]


def test_csv_uses_the_name_column_when_there_is_a_header() -> None:
    data = b'id,Name,country\n1,Smith,UK\n2,"Mc,Donald",IE\n3\n\n'
    assert read(data, FileFormat.CSV) == ["Smith", "Mc,Donald", "", ""]


def test_csv_without_a_name_header_reads_the_first_column_from_the_first_row() -> None:
    assert read(b"Smith,1\nRossi,2\n", FileFormat.CSV) == ["Smith", "Rossi"]


def test_jsonl_accepts_strings_and_objects_and_skips_blank_lines() -> None:
    data = b'"Jordan"\n{"name": "Nguyen", "ref": 7}\n\n  \n"Rossi"'
    assert read(data, FileFormat.JSONL) == ["Jordan", "Nguyen", "Rossi"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'"ok"\n{"name": 3}\n', "line 2 must be a JSON string or an object"),
        (b'"ok"\n"ok"\n{broken\n', "line 3 is not valid JSON"),
    ],
)
def test_a_malformed_jsonl_line_fails_the_file_with_its_number(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidBatchMessageError, match=reason):
        read(data, FileFormat.JSONL)


@pytest.mark.parametrize("file_format", [FileFormat.TXT, FileFormat.JSONL])
def test_an_absurdly_long_line_fails_the_file_instead_of_filling_memory(
    file_format: FileFormat,
) -> None:
    data = b'"Smith"\n"' + b"x" * (MAX_LINE_CHARS + 10) + b'"\n'
    with pytest.raises(InvalidBatchMessageError, match="line 2 is longer than"):
        read(data, file_format)


def test_invalid_utf8_fails_the_file() -> None:
    with pytest.raises(InvalidBatchMessageError, match="not valid UTF-8"):
        read(b"Smith\n\xff\xfeRossi\n", FileFormat.TXT)


def test_names_stream_lazily_so_a_huge_file_is_never_held_whole() -> None:
    data = b"Smith\n" * 500_000  # 3 MB, three times the read buffer
    stream = io.BytesIO(data)
    names = iter_names(stream, FileFormat.TXT)
    assert next(names) == "Smith"
    assert stream.tell() < len(data)  # only the first buffer's worth was read


def test_chunked_yields_consecutive_pieces_in_order() -> None:
    assert list(chunked(iter(["a", "b", "c", "d", "e"]), 2)) == [["a", "b"], ["c", "d"], ["e"]]
    assert list(chunked([], 3)) == []
