"""The figures in the README and docs are the newest ``make bench`` results, never hand-typed.

``benchmarks/report.py`` renders every ``<!-- bench:NAME -->`` block from the newest results file;
a document that differs is stale (run ``make bench-report``). A smoke run of the suite keeps the
benchmark itself working between the (long, not-in-CI) full runs.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


report = load("report")


def test_every_generated_figure_matches_the_newest_results_file() -> None:
    newest = report.newest()
    stale = [
        str(document.relative_to(ROOT))
        for document, text in report.render_documents(newest).items()
        if document.read_text(encoding="utf-8") != text
    ]
    assert not stale, f"figures differ from {newest.name}: run `make bench-report` ({stale})"


def test_every_document_has_its_blocks_and_every_block_a_renderer() -> None:
    names: set[str] = set()
    for document in report.DOCUMENTS:
        found = {match["name"] for match in report.BLOCK.finditer(document.read_text("utf-8"))}
        assert found, f"{document} has no generated block"
        names |= found
    assert names <= {*report.RENDERERS, "plots"}
    assert {"summary", "sizing", "http", "cold", "cost"} <= names


def test_a_changed_figure_is_detected(tmp_path: Path) -> None:
    results = json.loads(report.newest().read_text(encoding="utf-8"))
    results["http"]["servers"]["nameorigin"]["rps"] += 1
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(results), encoding="utf-8")
    rendered = report.render_documents(changed)
    assert rendered[ROOT / "README.md"] != (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_cold_start_floor_is_shown_with_what_7x_leaves() -> None:
    results = json.loads(report.newest().read_text(encoding="utf-8"))
    cold = results["cold_start"]
    phases = {"interpreter_s": 0.011, "init_s": 0.1, "first_answer_s": 0.001, "rss_mib": 60.0}
    cold["floor"] = {**phases, "total_s": 0.112}
    cold["torch"]["total_s"] = 1.05
    cold["floor_speedup_vs_torch"] = 9.38
    cold["seven_x_budget_s"] = 0.15
    block = report.cold_block(results, "source")
    assert "| floor |" in block
    assert "fit in 0.038 s" in block  # 0.15 s allowed - 0.112 s the libraries take
    assert "numpy + onnxruntime alone 0.112 s (9.38x)" in report.summary(results, "source")
    del cold["floor"]
    assert "floor" not in report.cold_block(results, "source")


@pytest.mark.slow
def test_the_suite_runs_and_its_results_render(tmp_path: Path) -> None:
    subprocess.run(
        [
            *(sys.executable, "benchmarks/suite.py", "--smoke", "--parts", "core"),
            *("--no-plots", "--out", str(tmp_path)),
        ],
        cwd=ROOT,
        check=True,
        timeout=300,
        capture_output=True,
    )
    (path,) = tmp_path.glob("*.json")
    results = json.loads(path.read_text(encoding="utf-8"))
    assert results["smoke"] is True
    assert results["core"]["batch"]["names_per_s"]["threads_2"] > 0
    source = report.source_line(path, results)
    assert "names/s" in report.core_block(results, source)
    cost = results["lambda_batch_cost"]
    assert cost["chosen"]["memory_mb"] == 1769 * cost["chosen"]["threads"]
    assert "$ per 1M (arm64)" in report.cost_block(results, source)
