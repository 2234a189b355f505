"""docs/reliability.md shows exactly the figures of the committed results files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_the_documented_figures_are_the_results_files() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "reliability_report.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_committed_full_runs_met_the_issue_targets() -> None:
    chaos = json.loads((BENCHMARKS / "results" / "queue_chaos.json").read_text(encoding="utf-8"))
    soak = json.loads((BENCHMARKS / "results" / "soak.json").read_text(encoding="utf-8"))

    assert chaos["ok"] and chaos["names"] >= 1_000_000 and chaos["kills"] >= 10
    assert chaos["s3_failed_write_percent"] >= 5
    assert chaos["lost_lines"] == chaos["duplicated_lines"] == chaos["lost_batches"] == 0
    assert soak["ok"] and soak["seconds"] >= 600 and soak["server_errors"] == 0
    assert soak["rss_growth_percent"] <= 10 and abs(soak["fds_end"] - soak["fds_start"]) <= 2
