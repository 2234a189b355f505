"""The README's and docs' measured figures, generated from the newest ``benchmarks/results`` file.

Each generated table sits between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->`` in a
Markdown file; ``python benchmarks/report.py`` rewrites them all, ``--check`` only says whether
they are stale (``tests/test_benchmark_docs.py`` runs it), so no figure is ever typed by hand.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPOSITORY / "benchmarks" / "results"
#: The documents holding generated blocks (any block may appear in any of them).
DOCUMENTS = (
    REPOSITORY / "README.md",
    REPOSITORY / "docs" / "knative.md",
    REPOSITORY / "docs" / "performance.md",
)
BLOCK = re.compile(
    r"(<!-- bench:(?P<name>[a-z]+) -->\n)(?P<body>.*?)(<!-- /bench:(?P=name) -->)", re.S
)


def newest(results_dir: Path = RESULTS_DIR) -> Path:
    """The results file of the latest full (not smoke) run."""
    runs = []
    for path in results_dir.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]-*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        if "started_at" in data and not data.get("smoke"):  # the suite's, not other tools'
            runs.append((data["started_at"], path))
    if not runs:
        raise FileNotFoundError(f"no results in {results_dir}: run `make bench`")
    return max(runs)[1]


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" ---: " for _ in header) + "|"]
    lines[1] = "| --- |" + "|".join(" ---: " for _ in header[1:]) + "|"
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def yes(ok: bool) -> str:
    return "met" if ok else "**not met**"


def before_issue_10(mixed: dict[str, Any]) -> str:
    """The one-process baseline's figure during batches, when the run measured it."""
    if "one_process_baseline" not in mixed:
        return ""
    during = mixed["one_process_baseline"]["single_during_batches"]
    return f"; one process (before): {during['rps']:,} req/s, p99 {during['p99_ms']} ms"


def granted(core: dict[str, Any]) -> str:
    """How much CPU the shared machine gave the 2-thread batch, when the run measured it."""
    used = core["batch"].get("cores_used", {}).get("threads_2")
    return "" if used is None else f"; {used} cores' worth of CPU granted"


def summary(r: dict[str, Any], source: str) -> str:
    http, mixed, core, cold = r["http"], r["mixed"], r["core"], r["cold_start"]
    ours, base = http["servers"]["nameorigin"], http["servers"]["fastapi_torch"]
    alone, during = mixed["single_alone"], mixed["single_during_batches"]
    batch = core["batch"]["names_per_s"]
    shipped = cold["shipped"]
    rows = [
        [
            "single name over HTTP, `hey -c 8`",
            f"{ours['rps']:,} req/s, p99 {ours['p99_ms']} ms",
            f"FastAPI + torch {base['rps']:,} req/s, p99 {base['p99_ms']} ms",
            f"{http['rps_ratio']}x",
            f"≥ 6x, p99 ≤ 10 ms: {yes(http['rps_ratio'] >= 6 and ours['p99_ms'] <= 10)}",
        ],
        [
            "single names while 10k-name batches stream",
            f"{during['rps']:,} req/s, p99 {during['p99_ms']} ms",
            f"alone {alone['rps']:,} req/s, p99 {alone['p99_ms']} ms" + before_issue_10(mixed),
            f"{mixed['rate_kept']}x of solo",
            f"≥ 0.5x, p99 ≤ 25 ms: {yes(mixed['rate_kept'] >= 0.5 and during['p99_ms'] <= 25)}",
        ],
        [
            "one 10k-name batch in process",
            f"{batch['threads_2']:,} names/s (2 threads{granted(core)})",
            f"1 thread {batch['threads_1']:,} names/s",
            f"{core['batch']['speedup_2_vs_1']}x",
            f"≥ 50,000 names/s: {yes(batch['threads_2'] >= 50_000)}",
        ],
        [
            "single name in process (`classify`)",
            f"p50 {core['single_name_us']['p50']} µs, p99 {core['single_name_us']['p99']} µs",
            "",
            "",
            f"p50 ≤ 100 µs: {yes(core['single_name_us']['p50'] <= 100)}",
        ],
        [
            f"cold start of the `sam build` package ({cold['python']})",
            f"{shipped['total_s']} s, {shipped['rss_mib']} MiB",
            f"torch way {cold['torch']['total_s']} s, {cold['torch']['rss_mib']} MiB"
            + (
                f"; numpy + onnxruntime alone {cold['floor']['total_s']} s"
                f" ({cold['floor_speedup_vs_torch']}x)"
                if "floor" in cold
                else ""
            ),
            f"{cold['speedup_vs_torch']}x faster",
            "≤ 0.35 s, ≤ 90 MiB, ≥ 7x: "
            + yes(
                shipped["total_s"] <= 0.35
                and shipped["rss_mib"] <= 90
                and cold["speedup_vs_torch"] >= 7
            ),
        ],
    ]
    return (
        table(["what", "nameorigin", "baseline, same run", "ratio", "target"], rows)
        + f"\n{source}\n"
    )


def http_block(r: dict[str, Any], source: str) -> str:
    http = r["http"]
    rows = [
        [name, f"{s['rps']:,}", s["p50_ms"], s["p99_ms"], s["non_200"], s["pss_mib"]]
        for name, s in http["servers"].items()
    ]
    header = ["server (one run, alternating rounds, medians)", "req/s", "p50 ms", "p99 ms"]
    return (
        table([*header, "non-200", "memory MiB (PSS, all processes)"], rows)
        + f"\nnameorigin / FastAPI + torch: **{http['rps_ratio']}x**. {source}\n"
    )


#: The single-name p99 a pod must keep (issue 10); the hard concurrency limit stays within it.
P99_BUDGET_MS = 25.0
#: The soft target as a share of the hard limit: Knative's own default utilization (70%).
TARGET_SHARE_OF_LIMIT = 0.7


def knative_sizing(r: dict[str, Any]) -> dict[str, int]:
    """``containerConcurrency`` and the autoscaling target that the sweep implies.

    Hard limit: the most requests in flight whose p99 stays within ``P99_BUDGET_MS``. Target:
    ``TARGET_SHARE_OF_LIMIT`` of it, so a pod is added before its pods reach the limit (a rule
    on the limit, not on the noisy rate curve of a shared machine).
    """
    sweep = {int(c): s for c, s in r["http"]["sweep"].items()}
    within = [c for c, s in sorted(sweep.items()) if s["p99_ms"] <= P99_BUDGET_MS]
    limit = max(within, default=min(sweep))
    return {"containerConcurrency": limit, "target": max(1, int(TARGET_SHARE_OF_LIMIT * limit))}


def sizing(r: dict[str, Any], source: str) -> str:
    sweep = r["http"]["sweep"]
    rows = [[c, f"{s['rps']:,}", s["p50_ms"], s["p99_ms"]] for c, s in sweep.items()]
    chosen = knative_sizing(r)
    return (
        table(["in flight (hey -c)", "req/s", "p50 ms", "p99 ms"], rows)
        + f"\nSo: `containerConcurrency: {chosen['containerConcurrency']}` (the most in flight with"
        f" p99 within {P99_BUDGET_MS:g} ms) and `autoscaling.knative.dev/target:"
        f' "{chosen["target"]}"` ({TARGET_SHARE_OF_LIMIT:.0%} of it). {source}\n'
    )


def core_block(r: dict[str, Any], source: str) -> str:
    core = r["core"]
    single = core["single_name_us"]
    rows = [
        [
            "single name, `classify([name], top_k=3)`",
            f"p50 {single['p50']} µs, p99 {single['p99']} µs",
        ]
    ]
    used = core["batch"].get("cores_used", {})
    for key, rate in core["batch"]["names_per_s"].items():
        threads = key.removeprefix("threads_")
        cores = f" ({used[key]} cores' worth of CPU granted)" if key in used else ""
        label = f"{core['batch']['names']:,}-name batch, {threads} bucket thread(s)"
        rows.append([label, f"{rate:,} names/s{cores}"])
    for size, rate in core["names_per_s_by_batch_size"].items():
        rows.append([f"{int(size):,} names per call (2 threads)", f"{rate:,} names/s"])
    return table(["in process", "result"], rows) + f"\n{source}\n"


MIXED_HEADER = "single names (`hey -c 8`) vs one client streaming 10k-name batches"


def mixed_block(r: dict[str, Any], source: str) -> str:
    m = r["mixed"]
    variants = [("as shipped", m)]
    if "one_process_baseline" in m:
        variants.append(("one process, no batch processes (before)", m["one_process_baseline"]))
    rows = []
    for label, v in variants:
        for when, run in (
            ("alone", v["single_alone"]),
            ("during batches", v["single_during_batches"]),
        ):
            rows.append([f"{label}, {when}", f"{run['rps']:,}", run["p50_ms"], run["p99_ms"]])
        rows.append([f"{label}: kept of solo rate", f"{v['rate_kept']}x", "", ""])
        rows.append(
            [f"{label}: batch names/s meanwhile", f"{v['batch_names_per_s_during']:,}", "", ""]
        )
    return table([MIXED_HEADER, "req/s", "p50 ms", "p99 ms"], rows) + f"\n{source}\n"


def cold_block(r: dict[str, Any], source: str) -> str:
    c = r["cold_start"]
    rows = [
        [
            name,
            c[name]["interpreter_s"],
            c[name]["init_s"],
            c[name]["first_answer_s"],
            f"**{c[name]['total_s']}**",
            c[name]["rss_mib"],
        ]
        for name in ("shipped", "floor", "torch")
        if name in c
    ]
    header = [
        "variant",
        "interpreter s",
        "imports + init s",
        "first answer s",
        "total s",
        "peak RSS MiB",
    ]
    return (
        table(header, rows)
        + f"\n`shipped` = `{c['package']}` under {c['python']}; {c['speedup_vs_torch']}x"
        f" faster than the torch way; median of {c['runs']} alternating runs. {source}\n"
        + floor_note(c)
    )


def floor_note(c: dict[str, Any]) -> str:
    """What the libraries alone cost, against what 7x the torch way allows."""
    if "floor" not in c:
        return ""
    return (
        f"\n`floor` = numpy + onnxruntime importing, opening the same model and answering one name,"
        f" nothing else: {c['floor']['total_s']} s ({c['floor_speedup_vs_torch']}x the torch"
        f" way). 7x the torch way allows {c['seven_x_budget_s']} s, so everything the handler"
        f" adds (Powertools, pydantic, routes, settings) would have to fit in"
        f" {round(c['seven_x_budget_s'] - c['floor']['total_s'], 3)} s.\n"
    )


def cost_block(r: dict[str, Any], source: str) -> str:
    cost = r["lambda_batch_cost"]
    rows = [
        [
            o["threads"],
            o["memory_mb"],
            f"{o['names_per_s']:,}",
            o["seconds_per_million"],
            f"${o['usd_per_million']['x86_64']:.5f}",
            f"${o['usd_per_million']['arm64']:.5f}",
        ]
        for o in cost["options"]
    ]
    chosen = cost["chosen"]
    header = [
        "threads",
        "memory MB",
        "names/s",
        "s per 1M names",
        "$ per 1M (x86_64)",
        "$ per 1M (arm64)",
    ]
    return (
        table(header, rows)
        + f"\nFormula: `{cost['formula']}` (names_per_invocation {cost['names_per_invocation']:,};"
        f" {cost['prices']['region']} prices as of {cost['prices']['as_of']}: "
        f"{cost['prices']['usd_per_gb_second']['x86_64']} $/GB-s x86_64, "
        f"{cost['prices']['usd_per_gb_second']['arm64']} $/GB-s arm64, "
        f"{cost['prices']['usd_per_request']:.7f} $/request). Cheapest per name: "
        f"**{chosen['threads']} thread(s) at {chosen['memory_mb']} MB**. {source}\n"
    )


def within_noise(microseconds: float) -> str:
    """A difference of two noisy medians: below zero means too small to measure here."""
    return str(microseconds) if microseconds >= 0 else f"≈ 0 (difference {microseconds}: noise)"


def layers_block(r: dict[str, Any], source: str) -> str:
    layers = r["core"].get("single_request_layers")
    if layers is None:
        return f"(not measured in this run) {source}\n"
    http = r["http"]["servers"]["nameorigin"]
    rows = [
        ["the model: `classify` (normalize, encode, onnxruntime, top-k)", layers["model_us"]],
        [
            "the Powertools resolver around it (routing, validation, serialization)",
            layers["powertools_resolver_us"],
        ],
        ["the adapter (proxy event, context, response)", within_noise(layers["adapter_us"])],
        ["all of it, in one worker", layers["in_worker_total_us"]],
    ]
    budget = 2 * 1e6 / http["rps"]  # two workers' CPU per request at the measured rate
    return (
        table(["one single-name request, in process", "µs"], rows)
        + f"\nAt the measured {http['rps']:,} req/s, two workers have at most {budget:.0f} µs of"
        " CPU per request (less, as `hey` shares the cores); what the table does not cover is"
        f" uvicorn, HTTP parsing and the metrics. {source}\n"
    )


RENDERERS: dict[str, Callable[[dict[str, Any], str], str]] = {
    "summary": summary,
    "http": http_block,
    "sizing": sizing,
    "core": core_block,
    "mixed": mixed_block,
    "cold": cold_block,
    "cost": cost_block,
    "layers": layers_block,
    "source": lambda r, source: f"{source}\n",
}


def plots_block(path: Path) -> str:
    """Links to the run's PNG plots (``benchmarks/plots.py`` names them after the results file)."""
    pngs = sorted(path.parent.glob(f"{path.stem}-*.png"))
    links = [
        f"[{png.stem.removeprefix(path.stem + '-')}](../{png.relative_to(REPOSITORY)})"
        for png in pngs
    ]
    return ("Plots of this run: " + ", ".join(links) + ".\n") if links else ""


def source_line(path: Path, r: dict[str, Any]) -> str:
    load = r["machine"]["load_average_at_start"]
    shown = path.relative_to(REPOSITORY) if path.is_relative_to(REPOSITORY) else path
    return (
        f"_Generated from `{shown}` (model `{r['model_version']}`, "
        f"{r['started_at']}, {r['machine']['cpus']} CPUs, load average {load[0]} at start); "
        "`make bench` measures, `make bench-report` regenerates._"
    )


def render_documents(path: Path) -> dict[Path, str]:
    """Every document with its generated blocks as they should read for ``path``."""
    results = json.loads(path.read_text(encoding="utf-8"))
    source = source_line(path, results)
    updated: dict[Path, str] = {}
    for document in DOCUMENTS:
        text = updated.get(document) or document.read_text(encoding="utf-8")

        def fill(match: re.Match[str]) -> str:
            if match["name"] == "plots":
                return f"{match.group(1)}{plots_block(path)}{match.group(4)}"
            body = RENDERERS[match["name"]](results, source)
            return f"{match.group(1)}{body}{match.group(4)}"

        updated[document] = BLOCK.sub(fill, text)
    return updated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a document is stale")
    parser.add_argument("--results", type=Path, help="default: the newest full results file")
    args = parser.parse_args()
    path = args.results or newest()
    stale = []
    for document, text in render_documents(path).items():
        if document.read_text(encoding="utf-8") != text:
            stale.append(document)
            if not args.check:
                document.write_text(text, encoding="utf-8")
    if args.check and stale:
        names = ", ".join(str(d.relative_to(REPOSITORY)) for d in stale)
        sys.exit(f"stale figures in {names}: run `make bench-report`")


if __name__ == "__main__":
    main()
