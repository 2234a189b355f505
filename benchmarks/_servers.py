"""Benchmark servers on 127.0.0.1: start one on a free port, wait for it, always stop it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _local_aws import free_port

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
#: The old clients' single-name request.
BODY = json.dumps({"name": "Jordan", "n_predictions": 2})


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
