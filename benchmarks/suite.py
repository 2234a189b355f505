"""``make bench``: every benchmark and its baseline in ONE run, on 127.0.0.1, bounded.

Writes ``benchmarks/results/<date>-<model_version>.json`` and PNG plots beside it
(``benchmarks/plots.py``); the README's and docs' tables are generated from the newest results
file (``benchmarks/report.py``), so no figure is typed by hand. On this shared 2-core machine every
comparison runs in alternating rounds within the same run and reports medians; ratios are always
against a baseline measured in the same run. The machine's load average is recorded with them.

Parts: ``core`` (in process: single-name latency, 10k-batch names/s on 1 and 2 threads, names/s by
batch size), ``http`` (single names, nameorigin as ``make serve`` ships it vs FastAPI + torch, then
nameorigin by concurrency), ``mixed`` (single names alone vs while 10k-name batches stream),
``cold`` (the ``sam build`` package under the runtime's Python vs the torch way), and the batch
Lambda's cost per million names, derived from ``core``.

Run: ``make bench`` (``.venv/bin/python benchmarks/suite.py -h``; ``--smoke`` for a quick check).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCHMARKS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS_DIR))

from _local_aws import data_set_names  # noqa: E402
from _servers import BODY, server  # noqa: E402
from cold_start import LAMBDA_ENVIRONMENT, VARIANTS, make_torch_state  # noqa: E402
from costs import lambda_costs  # noqa: E402

from nameorigin.config import default_model_dir  # noqa: E402
from nameorigin.core.classifier import Classifier  # noqa: E402

REPOSITORY = BENCHMARKS_DIR.parent
RESULTS_DIR = BENCHMARKS_DIR / "results"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Scale:
    """How much work each part does (``--smoke`` shrinks it to seconds)."""

    rounds: int = 5
    single_calls: int = 3000
    batch_names: int = 10_000
    batch_repeats: int = 3
    http_requests: int = 4000
    sweep_requests: int = 2000
    mixed_seconds: float = 4.0
    cold_runs: int = 7


SMOKE = Scale(1, 200, 2000, 1, 200, 100, 1.0, 1)


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def cdf_points(values: list[float], points: int = 60) -> list[list[float]]:
    """A thinned CDF ``[[value, fraction], ...]`` for the plots."""
    ordered = sorted(values)
    step = max(1, len(ordered) // points)
    picks = [*range(0, len(ordered), step), len(ordered) - 1]
    return [[round(ordered[i], 4), round((i + 1) / len(ordered), 4)] for i in picks]


def sample_names(count: int, seed: int = 0) -> list[str]:
    """Real surnames (the data set's length mix) when it is at hand, else random letters."""
    rng = random.Random(seed)
    data_dir = Path(os.environ.get("NAMEORIGIN_DATA_DIR", REPOSITORY.parent / "shared/data/names"))
    if data_dir.is_dir():
        pool = data_set_names(data_dir)
        return [rng.choice(pool) for _ in range(count)]
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(2, 14))) for _ in range(count)]


# -- core: in process ----------------------------------------------------------------------------


def core(scale: Scale) -> dict[str, Any]:
    """Single-name latency and batch names/s, 1 vs 2 bucket threads in alternating rounds."""
    model_dir = default_model_dir()
    names = sample_names(scale.batch_names)
    classifiers = {t: Classifier.load(model_dir, batch_threads=t) for t in (1, 2)}
    single = classifiers[1]
    for name in names[:300]:
        single.classify([name], top_k=3)
    latencies: list[float] = []
    for index in range(scale.single_calls):
        start = time.perf_counter_ns()
        single.classify([names[index % len(names)]], top_k=3)
        latencies.append((time.perf_counter_ns() - start) / 1000)
    rates: dict[int, list[float]] = {1: [], 2: []}
    cores_used: dict[int, list[float]] = {1: [], 2: []}  # CPU seconds per wall second
    for round_number in range(scale.rounds):
        for threads in (1, 2) if round_number % 2 == 0 else (2, 1):
            for _ in range(scale.batch_repeats):
                start, cpu = time.perf_counter(), time.process_time()
                classifiers[threads].classify(names, top_k=3)
                wall = time.perf_counter() - start
                rates[threads].append(len(names) / wall)
                cores_used[threads].append((time.process_time() - cpu) / wall)
    by_size: dict[str, float] = {}
    for size in (1, 10, 100, 1000, scale.batch_names):
        chunk, runs = names[:size], max(3, 3000 // size)
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            classifiers[2].classify(chunk, top_k=3)
            samples.append(size / (time.perf_counter() - start))
        by_size[str(size)] = round(median(samples))
    return {
        "single_name_us": {
            "p50": round(median(latencies), 1),
            "p99": round(percentile(latencies, 99), 1),
            "cdf": cdf_points(latencies),
        },
        "batch": {
            "names": len(names),
            "names_per_s": {f"threads_{t}": round(median(r)) for t, r in rates.items()},
            "speedup_2_vs_1": round(median(rates[2]) / median(rates[1]), 2),
            # what the shared machine granted: 2 threads can only help when this exceeds 1
            "cores_used": {f"threads_{t}": round(median(c), 2) for t, c in cores_used.items()},
        },
        "names_per_s_by_batch_size": by_size,
        "single_request_layers": layers(scale),
    }


def layers(scale: Scale) -> dict[str, float]:
    """Where one single-name request's CPU goes inside a worker (µs, medians of rounds)."""
    from nameorigin.config import Settings  # noqa: PLC0415
    from nameorigin.lambda_context import LocalLambdaContext  # noqa: PLC0415
    from nameorigin.server.app import create_app  # noqa: PLC0415
    from nameorigin.server.events import HttpRequest, to_proxy_event  # noqa: PLC0415

    app = create_app(Settings(model_dir=default_model_dir(), http_workers=1, batch_processes=0))
    classifier = app.models.load()
    headers = [("content-type", "application/json"), ("host", "127.0.0.1")]
    request = HttpRequest("POST", "/get_prediction", b"", headers, BODY.encode())
    event = to_proxy_event(request, "bench")
    context = LocalLambdaContext("bench", aws_request_id="bench")
    steps: dict[str, Callable[[], object]] = {
        "model": lambda: classifier.classify(["Jordan"], top_k=2),
        "resolver": lambda: app.resolver.resolve(event, context),
        "adapter": lambda: app.resolve_sync(request),
    }
    samples: dict[str, list[float]] = {name: [] for name in steps}
    calls = max(100, scale.single_calls // 3)
    for round_number in range(scale.rounds):
        for name in steps if round_number % 2 == 0 else reversed(list(steps)):
            start = time.perf_counter()
            for _ in range(calls):
                steps[name]()
            samples[name].append((time.perf_counter() - start) / calls * 1e6)
    model, resolver, adapter = (median(samples[name]) for name in steps)
    return {
        "model_us": round(model, 1),
        "powertools_resolver_us": round(resolver - model, 1),
        "adapter_us": round(adapter - resolver, 1),
        "in_worker_total_us": round(adapter, 1),
    }


# -- HTTP ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeyRun:
    """One bounded ``hey`` run: per-request latencies (ms) and the achieved rate."""

    latencies_ms: list[float]
    requests_per_second: float
    non_200: int

    def summary(self) -> dict[str, float]:
        return {
            "rps": round(self.requests_per_second),
            "p50_ms": round(percentile(self.latencies_ms, 50), 2),
            "p99_ms": round(percentile(self.latencies_ms, 99), 2),
        }


def hey_request_count(requests: int, concurrency: int) -> int:
    """``requests`` rounded down to whole rounds of ``hey -c concurrency`` (at least one round).

    hey gives each connection ``n // c`` requests, so asking for a multiple of c keeps a request
    it never sent from counting as a failed one (2,000 at c=32 used to "lose" 16 per round).
    """
    return max(concurrency, requests - requests % concurrency)


def hey(url: str, requests: int, concurrency: int, body: str = BODY, seconds: float = 0) -> HeyRun:
    """``hey -n requests -c concurrency`` (or ``-z seconds``) POSTing ``body``, read from hey's
    per-request CSV."""
    requests = hey_request_count(requests, concurrency)
    bound = ("-z", f"{seconds}s") if seconds else ("-n", str(requests))
    completed = subprocess.run(
        [
            *("hey", *bound, "-c", str(concurrency), "-t", "30", "-m", "POST"),
            *("-T", "application/json", "-d", body, "-o", "csv", url),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    rows = list(csv.DictReader(io.StringIO(completed.stdout)))
    if not rows:
        raise RuntimeError(f"hey answered nothing:\n{completed.stdout[-2000:]}")
    latencies = [float(row["response-time"]) * 1000 for row in rows]
    ends = [float(row["offset"]) + float(row["response-time"]) for row in rows]
    non_200 = sum(row["status-code"] != "200" for row in rows)
    non_200 += 0 if seconds else requests - len(rows)
    return HeyRun(latencies, len(rows) / max(ends), non_200)


def merge(runs: list[HeyRun]) -> dict[str, Any]:
    """Medians over rounds (rate, p50, p99), plus a CDF of every request of every round."""
    summaries = [run.summary() for run in runs]
    return {
        "rps": round(median([s["rps"] for s in summaries])),
        "p50_ms": round(median([s["p50_ms"] for s in summaries]), 2),
        "p99_ms": round(median([s["p99_ms"] for s in summaries]), 2),
        "non_200": sum(run.non_200 for run in runs),
        "cdf_ms": cdf_points([ms for run in runs for ms in run.latencies_ms]),
    }


def tree_pss_mib(pid: int) -> float:
    """Proportional memory of a process and all its descendants (shared pages split)."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text(encoding="utf-8")
            children = Path(f"/proc/{current}/task/{current}/children").read_text(encoding="utf-8")
        except OSError:
            continue
        total += next(
            int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")
        )
        todo.extend(int(child) for child in children.split())
    return round(total / 1024, 1)


def ours_command() -> tuple[list[str], dict[str, str]]:
    """``make serve`` as it ships: ``python -m nameorigin.server`` with its default settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAMEORIGIN_")}
    return [sys.executable, "-m", "nameorigin.server"], {**env, "NAMEORIGIN_HTTP_HOST": "127.0.0.1"}


def http(scale: Scale, with_baseline: bool) -> dict[str, Any]:
    """Single names at c=8, alternating rounds against the baseline; then a concurrency sweep."""
    command, env = ours_command()
    baseline = [
        sys.executable,
        str(BENCHMARKS_DIR / "baseline_fastapi_torch.py"),
        "--port",
        "{port}",
    ]
    result: dict[str, Any] = {"concurrency": 8, "requests_per_round": scale.http_requests}
    with (
        server(command, "/v2/health/ready", env) as (ours, ours_pid),
        server(baseline, "/check_service", {}) if with_baseline else nullcontext() as base,
    ):
        targets = {"nameorigin": ours + "/get_prediction"}
        pids = {"nameorigin": ours_pid}
        if base is not None:
            targets["fastapi_torch"] = base[0] + "/get_prediction"
            pids["fastapi_torch"] = base[1]
        for url in targets.values():
            hey(url, min(1000, scale.http_requests), 8)  # warm-up, not counted
        rounds: dict[str, list[HeyRun]] = {name: [] for name in targets}
        for round_number in range(scale.rounds):
            order = list(targets) if round_number % 2 == 0 else list(reversed(targets))
            for name in order:
                rounds[name].append(hey(targets[name], scale.http_requests, 8))
        result["servers"] = {name: merge(runs) for name, runs in rounds.items()}
        for name, pid in pids.items():
            result["servers"][name]["pss_mib"] = tree_pss_mib(pid)
        if base is not None:
            servers = result["servers"]
            result["rps_ratio"] = round(
                servers["nameorigin"]["rps"] / servers["fastapi_torch"]["rps"], 2
            )
        sweep: dict[str, Any] = {}
        for concurrency in (1, 2, 4, 8, 16, 32):
            runs = [hey(targets["nameorigin"], scale.sweep_requests, concurrency) for _ in range(3)]
            summary = merge(runs)
            summary.pop("cdf_ms")
            sweep[str(concurrency)] = summary
        result["sweep"] = sweep
    return result


# -- mixed load ----------------------------------------------------------------------------------


class BatchStream:
    """One client posting 10k-name ``/predict`` batches back to back until stopped."""

    def __init__(self, url: str, names: list[str]) -> None:
        self.url = url
        self.body = json.dumps({"names": names, "top_k": 3}).encode()
        self.count = len(names)
        self.seconds: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            request = urllib.request.Request(
                self.url, self.body, {"content-type": "application/json"}, method="POST"
            )
            start = time.perf_counter()
            with urllib.request.urlopen(request, timeout=120) as answer:
                answer.read()
                if answer.status != 200:
                    raise RuntimeError(f"batch answered {answer.status}")
            self.seconds.append(time.perf_counter() - start)

    @contextmanager
    def running(self) -> Iterator[None]:
        self._thread.start()
        while not self.seconds:  # one batch done: the batch process is up and busy
            time.sleep(0.05)
        try:
            yield
        finally:
            self._stop.set()
            self._thread.join(timeout=180)


#: The mixed-load baseline in the same run: one process, no batch processes, i.e. every request
#: on one event loop, as before issue 10 (NAMEORIGIN_BATCH_PROCESSES=0 exists for this).
ONE_PROCESS = {"NAMEORIGIN_HTTP_WORKERS": "1", "NAMEORIGIN_BATCH_PROCESSES": "0"}


def mixed_once(scale: Scale, extra_env: dict[str, str], names: list[str]) -> dict[str, Any]:
    """Single names (hey -c 8, fixed duration) alone, then while one client streams batches."""
    command, env = ours_command()
    with server(command, "/v2/health/ready", {**env, **extra_env}) as (base, _):
        single = base + "/get_prediction"
        stream = BatchStream(base + "/predict", names)
        hey(single, 500, 8)
        solo = [hey(single, 0, 8, seconds=scale.mixed_seconds) for _ in range(scale.rounds)]
        with stream.running():
            batches_before = len(stream.seconds)
            started = time.perf_counter()
            during = [hey(single, 0, 8, seconds=scale.mixed_seconds) for _ in range(scale.rounds)]
            elapsed = time.perf_counter() - started
            batches = len(stream.seconds) - batches_before
    alone, mixed_load = merge(solo), merge(during)
    return {
        "single_alone": alone,
        "single_during_batches": mixed_load,
        "rate_kept": round(mixed_load["rps"] / alone["rps"], 2),
        "batch_names_per_s_during": round(batches * len(names) / elapsed),
        "batches_during": batches,
    }


def mixed(scale: Scale) -> dict[str, Any]:
    """Mixed load on the server as shipped, and on the one-process baseline (same run)."""
    names = sample_names(scale.batch_names, seed=1)
    result: dict[str, Any] = {"batch_names": len(names), "seconds_per_round": scale.mixed_seconds}
    result |= mixed_once(scale, {}, names)
    result["one_process_baseline"] = mixed_once(scale, ONE_PROCESS, names)
    return result


# -- cold start ----------------------------------------------------------------------------------

#: Peak RSS of this process image: VmHWM restarts at exec, where ru_maxrss would carry over the
#: parent's (this suite's) peak from the fork.
PEAK_RSS = """
def peak_rss_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""

#: The shipped package's cold start, in phases: each perf_counter is CLOCK_MONOTONIC, so the
#: child's readings compare with the parent's spawn time.
SHIPPED = """
import time; _start = time.perf_counter()
import json, pathlib
{peak}
from nameorigin.lambda_api.handler import lambda_handler
_init = time.perf_counter()
class Context:
    function_name = "bench"; memory_limit_in_mb = 1024; function_version = "1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
    aws_request_id = "bench"; log_group_name = "bench"; log_stream_name = "bench"
    def get_remaining_time_in_millis(self): return 30000
event = json.loads(pathlib.Path(EVENT).read_text())
import io, contextlib
with contextlib.redirect_stdout(io.StringIO()):
    answer = lambda_handler(event, Context())
assert answer["statusCode"] == 200, answer
print(json.dumps({"interpreter": _start, "init": _init, "answer": time.perf_counter(),
                  "rss_mib": peak_rss_mib()}))
"""

#: What no handler built on numpy + onnxruntime can beat: import both, open the shipped model with
#: the handler's session options, answer one name. Nothing of nameorigin, Powertools or pydantic.
FLOOR = """
import time; _start = time.perf_counter()
import json
{peak}
import numpy as np
import onnxruntime as ort
options = ort.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
session = ort.InferenceSession(
    "nameorigin/model/model.onnx", sess_options=options, providers=["CPUExecutionProvider"]
)
_init = time.perf_counter()
session.run(None, {{"tokens": np.array([[10, 15, 18, 4, 1, 14]]), "lengths": np.array([6])}})
print(json.dumps({{"interpreter": _start, "init": _init, "answer": time.perf_counter(),
                  "rss_mib": peak_rss_mib()}}))
"""

TORCH = """
import time; _start = time.perf_counter()
import json
{peak}
{body}
print(json.dumps({{"interpreter": _start, "init": _start, "answer": time.perf_counter(),
                  "rss_mib": peak_rss_mib()}}))
"""


def lambda_python() -> str:
    found = sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))
    return os.environ.get("LAMBDA_PYTHON") or (str(found[-1]) if found else "python3.12")


def cold_once(command: list[str], cwd: Path, env: dict[str, str]) -> dict[str, float]:
    spawned = time.perf_counter()
    completed = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr[-3000:])
    marks = json.loads(completed.stdout.strip().splitlines()[-1])
    return {
        "interpreter_s": marks["interpreter"] - spawned,
        "init_s": marks["init"] - marks["interpreter"],
        "first_answer_s": marks["answer"] - marks["init"],
        "total_s": marks["answer"] - spawned,
        "rss_mib": marks["rss_mib"],
    }


def cold(scale: Scale, package: Path) -> dict[str, Any]:
    """Process start → first answer: the ``sam build`` package (Python 3.12) vs the torch way,
    beside the floor of its libraries (numpy + onnxruntime + the model, nothing else)."""
    if not (package / "nameorigin/lambda_api/handler.py").is_file():
        raise SystemExit(f"{package} is not a sam build output: run `make sam-build` first")
    event = REPOSITORY / "events/api/get_prediction.json"
    base_env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
    }
    shipped_env = {**base_env, **LAMBDA_ENVIRONMENT, "PYTHONPATH": str(package)}
    shipped = [
        lambda_python(),
        "-c",
        f"EVENT = {str(event)!r}\n" + SHIPPED.replace("{peak}", PEAK_RSS),
    ]
    floor = [lambda_python(), "-c", FLOOR.format(peak=PEAK_RSS)]
    samples: dict[str, list[dict[str, float]]] = {"shipped": [], "floor": [], "torch": []}
    with tempfile.TemporaryDirectory() as scratch:
        state = Path(scratch) / "rnn.pt"
        make_torch_state(state)
        body = f"STATE = {str(state)!r}\n" + VARIANTS["torch_baseline"]
        torch = [sys.executable, "-c", TORCH.format(body=body, peak=PEAK_RSS)]
        commands = {
            "shipped": (shipped, package, shipped_env),
            "floor": (floor, package, shipped_env),
            "torch": (torch, REPOSITORY, base_env),
        }
        for round_number in range(scale.cold_runs):
            order = list(commands) if round_number % 2 == 0 else list(reversed(commands))
            for name in order:
                samples[name].append(cold_once(*commands[name]))
    report: dict[str, Any] = {
        "python": subprocess.run(
            [lambda_python(), "--version"], capture_output=True, text=True, check=True
        ).stdout.strip(),
        "package": str(package.relative_to(REPOSITORY)),
        "runs": scale.cold_runs,
    }
    for name, runs in samples.items():
        report[name] = {
            key: round(median([run[key] for run in runs]), 3 if key != "rss_mib" else 1)
            for key in runs[0]
        }
    report["speedup_vs_torch"] = round(report["torch"]["total_s"] / report["shipped"]["total_s"], 2)
    report["floor_speedup_vs_torch"] = round(
        report["torch"]["total_s"] / report["floor"]["total_s"], 2
    )
    # What 7x the torch way allows, and how much of it numpy + onnxruntime alone already take.
    report["seven_x_budget_s"] = round(report["torch"]["total_s"] / 7, 3)
    return report


# -- the run -------------------------------------------------------------------------------------


def timed(name: str, part: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    print(f"[bench] {name} …", file=sys.stderr, flush=True)
    start = time.perf_counter()
    result = part()
    result["seconds"] = round(time.perf_counter() - start, 1)
    print(f"[bench] {name} done in {result['seconds']} s", file=sys.stderr, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny counts: checks, not figures")
    parser.add_argument("--parts", default="core,http,mixed,cold", help="comma-separated subset")
    parser.add_argument("--no-baseline", action="store_true", help="skip FastAPI + torch over HTTP")
    parser.add_argument("--package", type=Path, default=REPOSITORY / ".aws-sam/build/ApiFunction")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="results folder")
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args()
    scale = SMOKE if args.smoke else Scale()
    parts = set(args.parts.split(","))
    manifest = json.loads((default_model_dir() / "manifest.json").read_text(encoding="utf-8"))
    started = dt.datetime.now(dt.UTC)
    results: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "model_version": manifest["model_version"],
        "model_bytes": (default_model_dir() / manifest["model_file"]).stat().st_size,
        "started_at": started.isoformat(timespec="seconds"),
        "smoke": args.smoke,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
    }
    if "core" in parts:
        results["core"] = timed("core", lambda: core(scale))
        results["lambda_batch_cost"] = lambda_costs(results["core"]["batch"]["names_per_s"])
    if "http" in parts:
        results["http"] = timed("http", lambda: http(scale, not args.no_baseline))
    if "mixed" in parts:
        results["mixed"] = timed("mixed", lambda: mixed(scale))
    if "cold" in parts:
        results["cold_start"] = timed("cold start", lambda: cold(scale, args.package))
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{started:%Y-%m-%d}-{manifest['model_version']}.json"
    path.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"[bench] wrote {path}", file=sys.stderr)
    if not args.no_plots:
        from plots import plot_all  # noqa: PLC0415  # matplotlib: only when plotting

        for png in plot_all(path):
            print(f"[bench] plot {png}", file=sys.stderr)


if __name__ == "__main__":
    main()
