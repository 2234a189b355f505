"""Queue chaos: names through the local queue while the poller is killed and S3 writes fail.

moto server (own process, 127.0.0.1) holds the queue, the DLQ and the bucket; the local poller
(``python -m nameorigin.tooling poll``, the real batch Lambda handler) runs in its own process and
is SIGKILLed at random moments (then restarted, like a crashed Lambda environment); its S3 traffic
goes through a fault proxy that fails a share of the writes (PUTs) with a 500, and the poller makes
one attempt per request (``AWS_MAX_ATTEMPTS=1``) so each injected failure fails its batch.

Every message sent is then accounted for: exactly one complete results object (line count and
input order checked name by name) or exactly one DLQ entry, with the diagnosis
``nameorigin-batch dlq list`` would print. A few poison messages (a claim check pointing at nothing,
``top_k`` 0) are mixed in so the DLQ path is exercised too. Lost and duplicated lines must be 0.

Run (figures: benchmarks/results/queue_chaos.json; docs/reliability.md shows them):
``.venv/bin/python benchmarks/queue_chaos.py`` (1,000,000 names, >= 10 kills, 5 % failed writes).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _local_aws import free_port, moto_server, surnames

from nameorigin.config import Settings
from nameorigin.tooling import topology
from nameorigin.tooling.cli.dlq import diagnose, peek_all

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "queue_chaos.json"


class FaultProxy:
    """HTTP proxy in front of moto's S3 that answers a share of the writes with a 500."""

    def __init__(self, upstream: str, failure_rate: float, seed: int) -> None:
        self.upstream = urlsplit(upstream)
        self.failure_rate = failure_rate
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.writes = 0
        self.failed_writes = 0
        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler_class())
        self.server.daemon_threads = True
        # A killed poller resets its connections: expected here, not worth a traceback each.
        self.server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_this_write(self) -> bool:
        with self.lock:
            self.writes += 1
            failed = self.random.random() < self.failure_rate
            self.failed_writes += failed
            return failed

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                return

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _forward(self) -> None:
                body = self._body()
                is_write = self.command == "PUT" or (
                    self.command == "POST" and "uploadId=" in self.path
                )
                if is_write and proxy.fail_this_write():
                    error = (
                        b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>InternalError"
                        b"</Code><Message>injected by queue_chaos</Message></Error>"
                    )
                    self.send_response(500)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(error)))
                    self.end_headers()
                    self.wfile.write(error)
                    return
                headers = {
                    key: value
                    for key, value in self.headers.items()
                    if key.lower() not in {"transfer-encoding", "content-length", "connection"}
                }
                headers["Content-Length"] = str(len(body))
                upstream = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=120
                )
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    payload = answer.read()
                    self.send_response(answer.status)
                    for key, value in answer.getheaders():
                        if key.lower() not in {"transfer-encoding", "content-length", "connection"}:
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                finally:
                    upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward  # noqa: N815

        return Handler


@dataclass
class ChaosReport:
    """The figures of one run (written as JSON)."""

    names: int
    messages: int
    poison_messages: int
    kills: int
    s3_writes: int
    s3_failed_writes: int
    s3_failed_write_percent: float
    completed_batches: int
    dlq_batches: int
    dlq_without_reason: int
    lost_batches: int
    double_outcomes: int
    result_lines: int
    lost_lines: int
    duplicated_lines: int
    out_of_order_batches: int
    seconds: float
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            self.lost_batches == 0
            and self.double_outcomes == 0
            and self.lost_lines == 0
            and self.duplicated_lines == 0
            and self.out_of_order_batches == 0
            and self.dlq_without_reason == 0
        )


class Poller:
    """The local poller process, killed and restarted on demand."""

    def __init__(self, env: dict[str, str], log_path: Path, batch_size: int) -> None:
        self.env, self.log_path, self.batch_size = env, log_path, batch_size
        self.process: subprocess.Popen[bytes] | None = None
        self.log = log_path.open("ab")

    def start(self) -> None:
        marker = self.log_path.stat().st_size
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nameorigin.tooling", "poll", "--batch-size",
             str(self.batch_size), "--batching-window", "0.2"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=self.log,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while b"polling " not in self.log_path.read_bytes()[marker:]:  # model loaded
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"poller did not start: see {self.log_path}")
            time.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.log.close()


def queue_is_drained(sqs: Any, queue_url: str) -> bool:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return all(int(value) == 0 for value in attributes.values())


def run(args: argparse.Namespace) -> ChaosReport:
    """One chaos run; the report (also written to ``args.results``)."""
    rng = random.Random(args.seed)
    started = time.perf_counter()
    with moto_server() as endpoint, FaultProxy(endpoint, args.failure_rate, args.seed) as proxy:
        shape = topology.Topology(
            visibility_timeout_seconds=args.visibility_timeout,
            max_receive_count=args.max_receive_count,
        )
        sqs, s3 = boto3.client("sqs"), boto3.client("s3")
        created = topology.create(shape, sqs, s3)
        names = surnames(args.names, seed=args.seed)
        batches: dict[str, list[str]] = {}
        bodies: list[str] = []
        for number, start in enumerate(range(0, len(names), args.message_names)):
            batch_id = f"chaos-{number:06d}"
            batches[batch_id] = names[start : start + args.message_names]
            bodies.append(json.dumps({"batch_id": batch_id, "names": batches[batch_id]}))
        poison = [
            json.dumps({"batch_id": f"poison-{i:03d}", "names": ["Smith"], "top_k": 0})
            if i % 2
            else json.dumps(
                {
                    "batch_id": f"poison-{i:03d}",
                    "s3_uri": f"s3://{created.bucket}/uploads/missing-{i}.txt",
                }
            )
            for i in range(args.poison)
        ]
        bodies += poison
        rng.shuffle(bodies)
        for start in range(0, len(bodies), 10):
            entries = [
                {"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start : start + 10])
            ]
            assert not sqs.send_message_batch(QueueUrl=created.queue_url, Entries=entries).get(
                "Failed"
            )  # type: ignore[arg-type]

        log_dir = Path(args.log_dir)
        log_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL_S3": proxy.url,
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_RETRY_MODE": "standard",
            "NAMEORIGIN_RESULTS_BUCKET": created.bucket,
            "NAMEORIGIN_BATCH_QUEUE": created.queue_url,
        }
        poller = Poller(env, log_dir / "poller.log", args.batch_size)
        kills = 0
        try:
            poller.start()
            while True:
                deadline = time.monotonic() + rng.uniform(args.min_gap, args.max_gap)
                while time.monotonic() < deadline and not queue_is_drained(sqs, created.queue_url):
                    time.sleep(0.2)
                if queue_is_drained(sqs, created.queue_url):
                    break
                if kills >= args.max_kills:  # enough chaos: let the poller finish the work
                    continue
                poller.kill()
                kills += 1
                print(f"kill {kills} at {time.perf_counter() - started:.1f} s", file=sys.stderr)
                poller.start()
        finally:
            poller.stop()

        report = account(
            s3, sqs, created, batches, {json.loads(p)["batch_id"] for p in poison}, shape
        )
        report.kills = kills
        report.s3_writes, report.s3_failed_writes = proxy.writes, proxy.failed_writes
        report.s3_failed_write_percent = round(100 * proxy.failed_writes / max(proxy.writes, 1), 2)
        report.seconds = round(time.perf_counter() - started, 1)
        report.settings = {
            "message_names": args.message_names,
            "batch_size": args.batch_size,
            "failure_rate": args.failure_rate,
            "visibility_timeout": args.visibility_timeout,
            "max_receive_count": args.max_receive_count,
            "kill_gap_seconds": [args.min_gap, args.max_gap],
            "max_kills": args.max_kills,
            "seed": args.seed,
        }
    return report


def account(
    s3: Any,
    sqs: Any,
    created: topology.CreatedResources,
    batches: dict[str, list[str]],
    poison_ids: set[str],
    shape: topology.Topology,
) -> ChaosReport:
    """Check every message's single outcome and every line."""
    settings = Settings.from_environ({})
    dead = peek_all(sqs, created.dlq_url)
    dead_ids: dict[str, int] = {}
    without_reason = 0
    for message in dead:
        body = json.loads(message["Body"])
        dead_ids[body["batch_id"]] = dead_ids.get(body["batch_id"], 0) + 1
        without_reason += not diagnose(message["Body"], settings).strip()
    completed = lost = doubled = lines_total = lost_lines = duplicated = out_of_order = 0
    for batch_id, names in batches.items():
        key = f"results/{batch_id}"
        try:
            s3.head_object(Bucket=created.bucket, Key=f"{key}.summary.json")
            done = True
        except s3.exceptions.ClientError:
            done = False
        in_dlq = dead_ids.get(batch_id, 0)
        if done and in_dlq:
            doubled += 1
        if in_dlq > 1:
            doubled += 1
        if not done and not in_dlq:
            lost += 1
            lost_lines += len(names)
        if not done:
            continue
        completed += 1
        raw = s3.get_object(Bucket=created.bucket, Key=f"{key}.jsonl")["Body"].read()
        lines = [json.loads(line) for line in raw.splitlines()]
        lines_total += len(lines)
        duplicated += max(0, len(lines) - len(names))
        lost_lines += max(0, len(names) - len(lines))
        if [(line["index"], line["name"]) for line in lines] != list(enumerate(names)):
            out_of_order += 1
    for batch_id in poison_ids:
        if dead_ids.get(batch_id, 0) != 1:
            lost += 1
    unexpected = set(dead_ids) - set(batches) - poison_ids
    lost += len(unexpected)
    return ChaosReport(
        names=sum(len(names) for names in batches.values()),
        messages=len(batches) + len(poison_ids),
        poison_messages=len(poison_ids),
        kills=0,
        s3_writes=0,
        s3_failed_writes=0,
        s3_failed_write_percent=0.0,
        completed_batches=completed,
        dlq_batches=sum(dead_ids.values()),
        dlq_without_reason=without_reason,
        lost_batches=lost,
        double_outcomes=doubled,
        result_lines=lines_total,
        lost_lines=lost_lines,
        duplicated_lines=duplicated,
        out_of_order_batches=out_of_order,
        seconds=0.0,
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--names", type=int, default=1_000_000)
    parser.add_argument("--message-names", type=int, default=5_000, help="names per message")
    parser.add_argument("--batch-size", type=int, default=5, help="messages per invocation")
    parser.add_argument("--poison", type=int, default=6, help="poison messages mixed in")
    parser.add_argument(
        "--failure-rate", type=float, default=0.06, help="share of S3 writes failed"
    )
    parser.add_argument("--min-kills", type=int, default=10)
    parser.add_argument("--max-kills", type=int, default=40, help="then let the run finish")
    parser.add_argument("--min-gap", type=float, default=1.0, help="seconds, after a (re)start")
    parser.add_argument("--max-gap", type=float, default=8.0)
    parser.add_argument("--visibility-timeout", type=int, default=4)
    parser.add_argument("--max-receive-count", type=int, default=10)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--log-dir", default=".cache/queue-chaos")
    parser.add_argument("--results", default=str(RESULTS_FILE))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = run(args)
    problems = []
    if report.kills < args.min_kills:
        problems.append(f"only {report.kills} kills (wanted >= {args.min_kills})")
    if report.s3_failed_write_percent < 100 * args.failure_rate * 0.5:
        problems.append(f"only {report.s3_failed_write_percent} % of S3 writes failed")
    if not report.ok:
        problems.append("lost, duplicated, out-of-order or double outcomes: see the report")
    output = {**asdict(report), "ok": report.ok and not problems, "problems": problems}
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    Path(args.results).write_text(json.dumps(output, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(output, indent=2))
    return 0 if output["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
