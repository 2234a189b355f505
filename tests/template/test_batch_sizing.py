"""The batch function's memory and bucket threads: the cheapest option the newest run measured."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def newest_results() -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location("report", ROOT / "benchmarks" / "report.py")
    assert spec is not None and spec.loader is not None
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    data: dict[str, Any] = json.loads(report.newest().read_text(encoding="utf-8"))
    return data


def test_batch_function_size_follows_the_measured_cost(template: dict[str, Any]) -> None:
    chosen = newest_results()["lambda_batch_cost"]["chosen"]
    properties = template["Resources"]["BatchFunction"]["Properties"]
    variables = properties["Environment"]["Variables"]
    assert properties["MemorySize"] == chosen["memory_mb"]
    assert int(variables["NAMEORIGIN_BATCH_THREADS"]) == chosen["threads"]
