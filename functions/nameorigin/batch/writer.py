"""Spool result lines to a local temporary file while a batch runs, then publish it in one go.

Results are never streamed to S3 piecemeal: S3 shows an object only once a PUT or a multipart
upload *completes*, so writing the whole spool at the end with a managed transfer means no reader
ever sees a partial results object, and a crash mid-batch leaves nothing behind (the spool dies
with the process).
Memory stays at one chunk; disk (Lambda's ``/tmp``) holds the results, about 130 bytes a name.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections import Counter
from collections.abc import Sequence
from types import TracebackType
from typing import IO

from nameorigin.batch.results import Problem, result_line
from nameorigin.core.classifier import Outcome, Rejection

#: Rejected names repeated in the summary (all of them are in the results object anyway).
MAX_REPORTED_PROBLEMS = 100


class ResultSpool:
    """A temporary JSONL file that counts, hashes and collects problems as lines are added."""

    def __init__(self, max_reported_problems: int = MAX_REPORTED_PROBLEMS) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile(prefix="nameorigin-results-")  # noqa: SIM115 - closed in close()
        self.max_reported_problems = max_reported_problems
        self.lines = 0
        self.bytes = 0
        self.rejected_by_reason: Counter[str] = Counter()
        self.problems: list[Problem] = []
        self._hash = hashlib.sha256()

    def add(self, outcomes: Sequence[Outcome]) -> None:
        """Append one line per outcome, continuing the input's numbering."""
        lines = []
        for outcome in outcomes:
            index = self.lines
            self.lines += 1
            if isinstance(outcome, Rejection):
                self.rejected_by_reason[str(outcome.reason)] += 1
                if len(self.problems) < self.max_reported_problems:
                    self.problems.append(
                        Problem(
                            index=index,
                            name=outcome.name,
                            reason=str(outcome.reason),
                            message=outcome.message,
                        )
                    )
            lines.append(json.dumps(result_line(index, outcome), ensure_ascii=False))
        data = ("\n".join(lines) + "\n").encode() if lines else b""
        self.file.write(data)
        self._hash.update(data)
        self.bytes += len(data)

    @property
    def rejected(self) -> int:
        """How many names were rejected so far."""
        return sum(self.rejected_by_reason.values())

    @property
    def sha256(self) -> str:
        """Hex sha256 of everything written so far (what readers check the object against)."""
        return self._hash.hexdigest()

    def rewind(self) -> IO[bytes]:
        """The spool, positioned at its start, ready to upload."""
        self.file.flush()
        self.file.seek(0)
        return self.file

    def close(self) -> None:
        """Delete the temporary file."""
        self.file.close()

    def __enter__(self) -> ResultSpool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
