"""PNG plots of one results file (``benchmarks/suite.py`` writes it; ``make bench`` plots it).

Latency CDFs, throughput by batch size and by concurrency, mixed load, cold-start phases: one PNG
each, next to the results file, named after it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def _save(figure: Any, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_all(results_path: Path) -> list[Path]:  # noqa: PLR0915  # one plot after another
    """Write every plot the results allow; return their paths."""
    results = json.loads(results_path.read_text(encoding="utf-8"))
    stem = results_path.with_suffix("")
    written: list[Path] = []
    title = f"model {results['model_version']}"
    if "http" in results:
        figure, axis = plt.subplots(figsize=(6, 4))
        for name, server in results["http"]["servers"].items():
            xs, ys = zip(*server["cdf_ms"], strict=True)
            axis.plot(xs, ys, label=f"{name} ({server['rps']} req/s)")
        if "mixed" in results:
            xs, ys = zip(*results["mixed"]["single_during_batches"]["cdf_ms"], strict=True)
            axis.plot(xs, ys, "--", label="nameorigin, while 10k batches stream")
            before = results["mixed"].get("one_process_baseline")
            if before:
                xs, ys = zip(*before["single_during_batches"]["cdf_ms"], strict=True)
                axis.plot(xs, ys, ":", label="one process (before), while batches stream")
        axis.set(xscale="log", xlabel="latency (ms)", ylabel="fraction of requests")
        axis.set_title(f"single-name /get_prediction, hey -c 8; {title}", fontsize=9)
        axis.legend(fontsize=8)
        written.append(_save(figure, Path(f"{stem}-latency-cdf.png")))
        sweep = results["http"]["sweep"]
        figure, left = plt.subplots(figsize=(6, 4))
        levels = [int(c) for c in sweep]
        left.plot(levels, [sweep[str(c)]["rps"] for c in levels], "o-", label="req/s")
        left.set(xscale="log", xlabel="concurrent requests (hey -c)", ylabel="req/s")
        right = left.twinx()
        right.plot(levels, [sweep[str(c)]["p99_ms"] for c in levels], "s--", color="C1")
        right.set_ylabel("p99 ms", color="C1")
        left.set_title(f"throughput vs concurrency; {title}", fontsize=9)
        written.append(_save(figure, Path(f"{stem}-concurrency.png")))
    if "core" in results:
        sizes = results["core"]["names_per_s_by_batch_size"]
        figure, axis = plt.subplots(figsize=(6, 4))
        axis.plot([int(s) for s in sizes], list(sizes.values()), "o-")
        axis.set(xscale="log", xlabel="names per call", ylabel="names/s (in process, 2 threads)")
        axis.set_title(f"throughput vs batch size; {title}", fontsize=9)
        written.append(_save(figure, Path(f"{stem}-batch-size.png")))
    if "mixed" in results:
        mixed = results["mixed"]
        figure, (rate, p99) = plt.subplots(1, 2, figsize=(9, 3.8))
        labels = ["alone", "during\nbatches"]
        runs = [mixed["single_alone"], mixed["single_during_batches"]]
        if "one_process_baseline" in mixed:
            before = mixed["one_process_baseline"]
            labels += ["before:\nalone", "before:\nduring"]
            runs += [before["single_alone"], before["single_during_batches"]]
        rate.bar(labels, [run["rps"] for run in runs])
        rate.set_ylabel("single-name req/s")
        p99.bar(labels, [run["p99_ms"] for run in runs], color="C1")
        p99.set_ylabel("single-name p99 ms")
        figure.suptitle(f"mixed load; {title}", fontsize=9)
        written.append(_save(figure, Path(f"{stem}-mixed.png")))
    if "cold_start" in results:
        cold = results["cold_start"]
        figure, axis = plt.subplots(figsize=(6, 3))
        phases = ["interpreter_s", "init_s", "first_answer_s"]
        for name in [name for name in ("shipped", "floor", "torch") if name in cold]:
            left = 0.0
            for index, phase in enumerate(phases):
                axis.barh(
                    name,
                    cold[name][phase],
                    left=left,
                    color=f"C{index}",
                    label=phase.removesuffix("_s") if name == "shipped" else None,
                )
                left += cold[name][phase]
        axis.set_xlabel("seconds from process start")
        axis.set_title(f"cold start ({cold['python']}); {title}", fontsize=9)
        axis.legend(fontsize=8)
        written.append(_save(figure, Path(f"{stem}-cold-start.png")))
    return written


if __name__ == "__main__":
    for path in plot_all(Path(sys.argv[1])):
        print(path)
