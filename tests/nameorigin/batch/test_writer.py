"""The result spool: numbering across chunks, hashing, and a bounded list of problems."""

from __future__ import annotations

import hashlib
import json

from nameorigin.batch.writer import ResultSpool
from nameorigin.core.classifier import Classifier


def test_lines_continue_numbering_across_chunks_and_the_hash_covers_every_byte(
    classifier: Classifier,
) -> None:
    with ResultSpool(max_reported_problems=2) as spool:
        spool.add(classifier.classify(["Jordan", "", "42"], 2))
        spool.add(classifier.classify(["Rossi", "  ", "Nguyen"], 2))
        data = spool.rewind().read()
    lines = [json.loads(line) for line in data.decode().splitlines()]
    assert [line["index"] for line in lines] == list(range(6))
    assert [line["name"] for line in lines] == ["Jordan", "", "42", "Rossi", "  ", "Nguyen"]
    assert "labels" in lines[0] and lines[1]["error"]["reason"] == "empty"
    assert spool.lines == 6 and spool.bytes == len(data)
    assert spool.sha256 == hashlib.sha256(data).hexdigest()
    assert spool.rejected_by_reason == {"empty": 2, "no_letters": 1}
    assert spool.rejected == 3
    assert [problem.index for problem in spool.problems] == [1, 2]  # capped at two


def test_non_ascii_names_are_written_as_utf8_not_escaped(classifier: Classifier) -> None:
    with ResultSpool() as spool:
        spool.add(classifier.classify(["Nguyễn"], 1))
        assert "Nguyễn".encode() in spool.rewind().read()
