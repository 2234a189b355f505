"""A moto server in its own process for the batch benchmarks (so it never shares our GIL)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3

# The test suite's support module: one free-port helper and one data-set loader for both.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from support import data_set_names, free_port, surnames

__all__ = ["data_set_names", "free_port", "moto_server", "surnames"]

BIN = Path(sys.executable).parent


@contextmanager
def moto_server() -> Iterator[str]:
    """Start ``moto_server`` on 127.0.0.1 and point boto3 (this process and children) at it."""
    port = free_port()
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
