"""Single-name requests/s and p99 over HTTP on localhost: nameorigin vs the FastAPI + torch service.

Both servers run side by side in ONE run, one process each, on 127.0.0.1, and are measured in
alternating rounds (so a noisy neighbour on this shared machine hurts both alike); the figures are
medians over the rounds. The load generator is ``hey`` (``apt-get install hey``), bounded by a
request count. ``--sweep`` also measures nameorigin alone at several concurrencies: that is where
the Knative ``autoscaling.knative.dev/target`` comes from (docs/knative.md, "Sizing").

The baseline needs ``fastapi`` and ``torch`` in ``.venv`` (benchmark only, not runtime deps):
``.venv/bin/pip install fastapi==0.163.2``; torch comes with the ``train`` extra.

Run: ``.venv/bin/python benchmarks/http_load.py`` (``--help`` for options).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from _local_aws import free_port

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPOSITORY_ROOT = BENCHMARKS_DIR.parent
BODY = json.dumps({"name": "Jordan", "n_predictions": 2})
HEY_OPTIONS = ("hey", "-t", "30", "-m", "POST", "-T", "application/json")


@dataclass(frozen=True)
class HeyResult:
    """One hey run's figures."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_200: int


def wait_for(url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} never answered 200")


@contextmanager
def server(command: list[str], ready_path: str, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """Start one server process on a free loopback port; yield (base URL, pid); always stop it."""
    port = free_port()
    process = subprocess.Popen(
        [arg.replace("{port}", str(port)) for arg in command],
        cwd=REPOSITORY_ROOT,
        env={**os.environ, **env, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + ready_path)
        yield base, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def rss_mib(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else float("nan")


def hey(url: str, requests: int, concurrency: int) -> HeyResult:
    """``hey -n requests -c concurrency`` POSTing the old clients' single-name body."""
    completed = subprocess.run(
        [*HEY_OPTIONS, "-n", str(requests), "-c", str(concurrency), "-d", BODY, url],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    text = completed.stdout

    def number(pattern: str) -> float:
        match = re.search(pattern, text)
        if match is None:
            raise RuntimeError(f"hey output lacks {pattern!r}:\n{text}")
        return float(match.group(1))

    # hey sends requests // concurrency per worker: count what it reports, not what was asked.
    statuses = {int(c): int(n) for c, n in re.findall(r"\[(\d{3})\]\s+(\d+) responses", text)}
    _, _, error_part = text.partition("Error distribution:")
    errors = sum(int(n) for n in re.findall(r"^\s*\[(\d+)\]", error_part, re.MULTILINE))
    return HeyResult(
        requests_per_second=number(r"Requests/sec:\s+([\d.]+)"),
        p50_ms=number(r"50%+ in ([\d.]+) secs") * 1000,
        p99_ms=number(r"99%+ in ([\d.]+) secs") * 1000,
        non_200=sum(n for code, n in statuses.items() if code != 200) + errors,
    )


def median_of(results: list[HeyResult]) -> HeyResult:
    return HeyResult(
        requests_per_second=statistics.median(r.requests_per_second for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        non_200=sum(r.non_200 for r in results),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="requests per hey run")
    parser.add_argument("--concurrency", type=int, default=8, help="hey -c for the comparison")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (median)")
    parser.add_argument("--sweep", default="1,2,4,8,16", help="nameorigin-only concurrencies")
    parser.add_argument("--no-baseline", action="store_true", help="skip the FastAPI+torch one")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if shutil.which("hey") is None:
        sys.exit("hey not found: apt-get install hey")

    ours_cmd = [sys.executable, "-m", "nameorigin.server"]
    ours_env = {"NAMEORIGIN_HTTP_HOST": "127.0.0.1"}
    base_cmd = [
        sys.executable,
        str(BENCHMARKS_DIR / "baseline_fastapi_torch.py"),
        "--port",
        "{port}",
    ]
    report: dict[str, object] = {"requests": args.requests, "concurrency": args.concurrency}

    with server(ours_cmd, "/v2/health/ready", ours_env) as (ours, ours_pid):
        with urllib.request.urlopen(ours + "/model", timeout=5) as answer:
            report["model_version"] = json.load(answer)["model_version"]
        targets = {"nameorigin": ours + "/get_prediction"}
        pids = {"nameorigin": ours_pid}
        baseline_context = server(base_cmd, "/check_service", {}) if not args.no_baseline else None
        with baseline_context or _nothing() as baseline:
            if baseline is not None:
                targets["fastapi_torch"] = baseline[0] + "/get_prediction"
                pids["fastapi_torch"] = baseline[1]
            for url in targets.values():
                hey(url, min(1000, args.requests), args.concurrency)  # warm-up, not counted
            rounds: dict[str, list[HeyResult]] = {name: [] for name in targets}
            for round_number in range(args.rounds):
                order = list(targets) if round_number % 2 == 0 else list(reversed(targets))
                for name in order:
                    rounds[name].append(hey(targets[name], args.requests, args.concurrency))
            medians = {name: median_of(results) for name, results in rounds.items()}
            report["compare"] = {name: asdict(result) for name, result in medians.items()}
            report["rss_mib"] = {name: round(rss_mib(pid), 1) for name, pid in pids.items()}

        sweep: dict[int, HeyResult] = {}
        for concurrency in [int(c) for c in args.sweep.split(",") if c]:
            sweep[concurrency] = median_of(
                [hey(targets["nameorigin"], args.requests, concurrency) for _ in range(3)]
            )
        report["sweep"] = {c: asdict(r) for c, r in sweep.items()}

    print(
        f"single-name POST /get_prediction, hey -n {args.requests} -c {args.concurrency}, "
        f"median of {args.rounds} alternating rounds, one server process each, "
        f"model {report['model_version']}"
    )
    print(f"{'server':<16}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-200':>9}{'RSS MiB':>9}")
    for name, result in medians.items():
        rss = report["rss_mib"][name]  # type: ignore[index]
        print(
            f"{name:<16}{result.requests_per_second:>10.0f}{result.p50_ms:>10.2f}"
            f"{result.p99_ms:>10.2f}{result.non_200:>9}{rss:>9}"
        )
    if "fastapi_torch" in medians:
        ratio = (
            medians["nameorigin"].requests_per_second / medians["fastapi_torch"].requests_per_second
        )
        report["throughput_ratio"] = round(ratio, 2)
        print(f"nameorigin / fastapi_torch throughput: {ratio:.1f}x")
    print("\nnameorigin alone, by concurrency (median of 3):")
    print(f"{'c':>4}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for concurrency, result in sweep.items():
        print(
            f"{concurrency:>4}{result.requests_per_second:>10.0f}"
            f"{result.p50_ms:>10.2f}{result.p99_ms:>10.2f}"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    main()
