"""``nameorigin-batch`` whose results upload hangs: a worker to kill in the middle of a batch.

Run as a script by test_poller.py. When a batch reaches its results upload (all names classified,
nothing written yet) it writes the batch id to ``$STALL_MARKER`` and sleeps until killed.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import IO

from nameorigin.batch.store import S3BatchStore
from nameorigin.tooling import cli


def _stall(self: S3BatchStore, batch_id: str, spool: IO[bytes]) -> str:
    Path(os.environ["STALL_MARKER"]).write_text(batch_id, encoding="utf-8")
    time.sleep(3600)
    raise AssertionError("the test should have killed this worker")


S3BatchStore.write_results = _stall  # type: ignore[method-assign]
sys.exit(cli.main(sys.argv[1:]))
