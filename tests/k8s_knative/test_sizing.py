"""The Knative concurrency settings are the ones the newest ``make bench`` sweep implies."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def test_concurrency_limit_and_target_follow_the_newest_sweep(base_service: dict[str, Any]) -> None:
    spec = importlib.util.spec_from_file_location("report", ROOT / "benchmarks" / "report.py")
    assert spec is not None and spec.loader is not None
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    chosen = report.knative_sizing(json.loads(report.newest().read_text(encoding="utf-8")))
    template = base_service["spec"]["template"]
    assert template["spec"]["containerConcurrency"] == chosen["containerConcurrency"]
    annotations = template["metadata"]["annotations"]
    assert int(annotations["autoscaling.knative.dev/target"]) == chosen["target"]
