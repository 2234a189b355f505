"""Soak: mixed traffic on ONE ``python -m nameorigin.server`` process; memory, descriptors, 5xx.

After a warm-up (every kind of request once, then a minute's share of traffic), client threads
send for ``--seconds``: single names (``/get_prediction``, ``/v2/.../infer``), 100-name and
10,000-name ``/predict`` batches, and bad requests (broken JSON, wrong method, unknown route,
``multipart/form-data`` without a boundary, a number too long to parse, invalid names). The server's
RSS and open file descriptors are read from /proc every few seconds.

Pass: RSS growth after warm-up <= 10 %, open descriptors flat (within 2 of the start), no 5xx,
and every answer the one expected for its kind (2xx for good requests, 4xx for bad ones).

Run (figures: benchmarks/results/soak.json; docs/reliability.md shows them):
``.venv/bin/python benchmarks/soak.py`` (10 minutes; ``--seconds 30`` for a smoke run).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _local_aws import free_port, surnames

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "soak.json"
REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
MAX_RSS_GROWTH_PERCENT = 10.0
MAX_FD_DRIFT = 2

Request = tuple[str, str, dict[str, Any], bool]  # method, path, httpx kwargs, should succeed


class Traffic:
    """The request mix: (weight, kind, builder) with builders drawing from a seeded generator."""

    def __init__(self, seed: int) -> None:
        self.names = surnames(50_000, seed=seed)
        self.kinds: list[tuple[float, str, Callable[[random.Random], Request]]] = [
            (40, "single", self._single),
            (15, "v2_single", self._v2_single),
            (25, "batch_100", lambda rng: self._batch(rng, 100)),
            (0.5, "batch_10k", lambda rng: self._batch(rng, 10_000)),
            (19.5, "bad", self._bad),
        ]

    def draw(self, rng: random.Random) -> tuple[str, Request]:
        weights = [kind[0] for kind in self.kinds]
        _, name, build = rng.choices(self.kinds, weights)[0]
        return name, build(rng)

    def _single(self, rng: random.Random) -> Request:
        body = {"name": rng.choice(self.names), "n_predictions": rng.randint(1, 3)}
        return "POST", "/get_prediction", {"json": body}, True

    def _v2_single(self, rng: random.Random) -> Request:
        tensor = {
            "name": "names",
            "shape": [1],
            "datatype": "BYTES",
            "data": [rng.choice(self.names)],
        }
        return "POST", "/v2/models/nameorigin/infer", {"json": {"inputs": [tensor]}}, True

    def _batch(self, rng: random.Random, size: int) -> Request:
        return (
            "POST",
            "/predict",
            {"json": {"names": rng.sample(self.names, size), "top_k": 3}},
            True,
        )

    def _bad(self, rng: random.Random) -> Request:
        json_header = {"content-type": "application/json"}
        multipart = {"content-type": "multipart/form-data"}
        too_long = b'{"names": ["a"], "top_k": ' + b"9" * 5000 + b"}"
        choices: list[Request] = [
            ("POST", "/predict", {"content": b'{"names": [', "headers": json_header}, False),
            ("GET", "/predict", {}, False),
            ("GET", f"/no/such/route/{rng.randint(0, 10**9)}", {}, False),
            ("POST", "/predict", {"content": b"x", "headers": multipart}, False),
            ("POST", "/predict", {"content": too_long, "headers": json_header}, False),
            ("POST", "/predict", {"json": {"names": ["", "123", "x" * 500]}}, False),
            ("POST", "/get_prediction", {"content": b"\xff\xfe", "headers": json_header}, False),
            ("GET", f"/v2/models/{rng.choice(self.names)}\u00e9/ready", {}, False),
        ]  # fmt: skip
        return rng.choice(choices)


@dataclass
class Sample:
    seconds: float
    rss_kib: int
    fds: int


@dataclass
class SoakReport:
    seconds: float
    requests: int
    requests_by_kind: dict[str, int]
    statuses: dict[str, int]
    server_errors: int
    unexpected_answers: int
    transport_errors: int
    rss_start_mib: float
    rss_end_mib: float
    rss_max_mib: float
    rss_growth_percent: float
    fds_start: int
    fds_end: int
    fds_max: int
    ok: bool = False
    problems: list[str] = field(default_factory=list)
    samples: list[dict[str, float]] = field(default_factory=list)


def read_proc(pid: int) -> tuple[int, int]:
    """(RSS in KiB, open file descriptors) of a process."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return rss, sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())


def start_server(port: int, log_path: Path) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("NAMEORIGIN_")}
    env.update(PORT=str(port), NAMEORIGIN_HTTP_HOST="127.0.0.1", AWS_DEFAULT_REGION="us-east-1")
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "nameorigin.server"],
            cwd=REPOSITORY_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v2/health/ready", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not become ready: {log_path.read_text(errors='replace')}")


class Load:
    """Client threads sending the mix until stopped; counts every outcome."""

    def __init__(self, base_url: str, traffic: Traffic, threads: int, seed: int) -> None:
        self.base_url, self.traffic, self.threads, self.seed = base_url, traffic, threads, seed
        self.lock = threading.Lock()
        self.kinds: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.unexpected: list[str] = []
        self.transport_errors = 0

    def run_for(self, seconds: float) -> None:
        stop = threading.Event()
        workers = [
            threading.Thread(target=self._worker, args=(stop, self.seed + i), daemon=True)
            for i in range(self.threads)
        ]
        for worker in workers:
            worker.start()
        time.sleep(seconds)
        stop.set()
        for worker in workers:
            worker.join(timeout=120)

    def _worker(self, stop: threading.Event, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=self.base_url, timeout=120) as client:
            while not stop.is_set():
                kind, (method, path, options, good) = self.traffic.draw(rng)
                try:
                    status = client.request(method, path, **options).status_code
                except httpx.TransportError as error:
                    with self.lock:
                        self.transport_errors += 1
                        self.unexpected.append(f"{method} {path}: {error!r}")
                    continue
                expected = 200 <= status < 300 if good else 400 <= status < 500
                with self.lock:
                    self.kinds[kind] += 1
                    self.statuses[str(status)] += 1
                    if not expected:
                        self.unexpected.append(f"{method} {path} ({kind}): {status}")


def run(args: argparse.Namespace) -> SoakReport:
    port = free_port()
    log_path = Path(args.log)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    server = start_server(port, log_path)
    traffic = Traffic(args.seed)
    base_url = f"http://127.0.0.1:{port}"
    try:
        warm = Load(base_url, traffic, 1, args.seed)
        for kind in traffic.kinds:  # every kind once, so each code path has allocated its caches
            method, path, options, _ = kind[2](random.Random(args.seed))
            httpx.request(method, base_url + path, timeout=120, **options)
        warm.run_for(args.warmup)
        load = Load(base_url, traffic, args.threads, args.seed + 1000)
        samples: list[Sample] = []
        started = time.monotonic()
        sampler_stop = threading.Event()

        def sample() -> None:
            while True:
                rss, fds = read_proc(server.pid)
                samples.append(Sample(round(time.monotonic() - started, 1), rss, fds))
                if sampler_stop.wait(args.sample_every):
                    return

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        load.run_for(args.seconds)
        sampler_stop.set()
        sampler.join()
        time.sleep(1)  # connections closed by the clients: let the server drop their sockets
        rss, fds = read_proc(server.pid)
        samples.append(Sample(round(time.monotonic() - started, 1), rss, fds))
    finally:
        server.terminate()
        server.wait(timeout=60)
    server_errors = sum(count for status, count in load.statuses.items() if status.startswith("5"))
    start, end = samples[0], samples[-1]
    growth = 100 * (end.rss_kib - start.rss_kib) / start.rss_kib
    report = SoakReport(
        seconds=args.seconds,
        requests=sum(load.kinds.values()),
        requests_by_kind=dict(load.kinds),
        statuses=dict(sorted(load.statuses.items())),
        server_errors=server_errors,
        unexpected_answers=len(load.unexpected),
        transport_errors=load.transport_errors,
        rss_start_mib=round(start.rss_kib / 1024, 1),
        rss_end_mib=round(end.rss_kib / 1024, 1),
        rss_max_mib=round(max(s.rss_kib for s in samples) / 1024, 1),
        rss_growth_percent=round(growth, 2),
        fds_start=start.fds,
        fds_end=end.fds,
        fds_max=max(s.fds for s in samples),
        samples=[asdict(s) for s in samples],
    )
    if growth > MAX_RSS_GROWTH_PERCENT:
        report.problems.append(f"RSS grew {growth:.1f} % (limit {MAX_RSS_GROWTH_PERCENT} %)")
    if abs(end.fds - start.fds) > MAX_FD_DRIFT:
        report.problems.append(f"open descriptors went from {start.fds} to {end.fds}")
    if server_errors:
        report.problems.append(f"{server_errors} answers were 5xx")
    if load.unexpected:
        report.problems.append(f"unexpected answers, e.g. {load.unexpected[:5]}")
    if report.requests == 0:
        report.problems.append("no request was answered")
    report.ok = not report.problems
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--warmup", type=float, default=20, help="seconds of traffic before t0")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--sample-every", type=float, default=5)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--log", default=".cache/soak/server.log")
    parser.add_argument("--results", default=str(RESULTS_FILE))
    args = parser.parse_args(argv)
    report = run(args)
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    Path(args.results).write_text(json.dumps(asdict(report), indent=2) + "\n", encoding="utf-8")
    summary = {key: value for key, value in asdict(report).items() if key != "samples"}
    print(json.dumps(summary, indent=2))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
