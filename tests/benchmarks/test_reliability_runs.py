"""Bounded CI variants of the reliability benchmarks (the full runs: docs/reliability.md).

Each runs the real script as its own process (it starts moto, the poller or the server on
127.0.0.1 and stops them) and asserts on the results file it writes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def run_script(script: str, results: Path, *options: str) -> dict[str, Any]:
    """Run a benchmark script; its results file (the run's output on failure)."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--results", str(results), *options],
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-5000:]
    report: dict[str, Any] = json.loads(results.read_text(encoding="utf-8"))
    return report


def test_queue_chaos_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    report = run_script(
        "queue_chaos.py",
        tmp_path / "chaos.json",
        *("--names", "10000", "--message-names", "500", "--poison", "4"),
        *("--min-kills", "3", "--max-kills", "3", "--min-gap", "1", "--max-gap", "3"),
        *("--failure-rate", "0.15", "--visibility-timeout", "3", "--seed", "3"),
        *("--log-dir", str(tmp_path / "logs")),
    )

    assert report["ok"], report
    assert report["kills"] >= 3 and report["s3_failed_writes"] >= 1
    assert report["completed_batches"] == 20 and report["result_lines"] == 10_000
    assert report["dlq_batches"] == report["poison_messages"] == 4
    assert report["lost_batches"] == report["duplicated_lines"] == report["lost_lines"] == 0
    assert report["double_outcomes"] == report["out_of_order_batches"] == 0


def test_soak_smoke_keeps_memory_descriptors_and_answers_steady(tmp_path: Path) -> None:
    report = run_script(
        "soak.py",
        tmp_path / "soak.json",
        *("--seconds", "20", "--warmup", "10", "--threads", "3", "--sample-every", "2"),
        *("--log", str(tmp_path / "server.log")),
    )

    assert report["ok"], report["problems"]
    assert report["server_errors"] == 0 and report["unexpected_answers"] == 0
    assert report["rss_growth_percent"] <= 10
    assert abs(report["fds_end"] - report["fds_start"]) <= 2
    assert set(report["requests_by_kind"]) >= {"single", "batch_100", "bad"}
