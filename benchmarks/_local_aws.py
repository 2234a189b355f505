"""A moto server in its own process for the batch benchmarks (so it never shares our GIL)."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """Start ``moto_server`` on 127.0.0.1 and point boto3 (this process and children) at it."""
    port = _free_port()
    server = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=endpoint,
        POWERTOOLS_METRICS_NAMESPACE="nameorigin-bench",
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_LOG_LEVEL="WARNING",
    )
    try:
        sqs = boto3.client("sqs")
        deadline = time.monotonic() + 20
        while True:
            try:
                sqs.list_queues()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def surnames(count: int, seed: int = 3) -> list[str]:
    """Real surnames from the data set when NAMEORIGIN_DATA_DIR has it, else synthetic ones."""
    data_dir = Path(os.environ.get("NAMEORIGIN_DATA_DIR", "../shared/data/names"))
    pool = [
        line.strip()
        for path in sorted(data_dir.glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    rng = random.Random(seed)
    if not pool:
        syllables = ["ka", "to", "mi", "ro", "sch", "ni", "vic", "ez", "son", "li", "ng", "ov"]
        pool = ["".join(rng.choice(syllables) for _ in range(3)).title() for _ in range(20_000)]
    return [rng.choice(pool) for _ in range(count)]
