"""Real uvicorn servers for the server tests: ``python -m nameorigin.server`` on 127.0.0.1.

Each server is the process the container runs (same entry point), started and stopped by these
fixtures; its log goes to a file the tests read to check what the server says.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import httpx
import pytest
from support import free_port

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]
STARTUP_TIMEOUT_SECONDS = 60.0


class ServerProcess:
    """One ``python -m nameorigin.server`` child process and its log."""

    def __init__(self, log_path: Path, environment: Mapping[str, str]) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {key: value for key, value in os.environ.items() if not key.startswith("NAMEORIGIN_")}
        env.update(
            {
                "PORT": str(self.port),
                "NAMEORIGIN_HTTP_HOST": "127.0.0.1",
                "NAMEORIGIN_SHUTDOWN_TIMEOUT_SECONDS": "30",
                "AWS_DEFAULT_REGION": "us-east-1",
                "POWERTOOLS_METRICS_NAMESPACE": "nameorigin-tests",
            }
        )
        env.update(environment)
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nameorigin.server"],
            cwd=REPOSITORY_ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        """Everything the server has logged so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def client(self, timeout: float = 30.0) -> httpx.Client:
        """An HTTP client bound to this server."""
        return httpx.Client(base_url=self.base_url, timeout=timeout)

    def wait_until(self, path: str, status: int = 200) -> None:
        """Poll ``path`` until it answers ``status``; fail with the log if the process dies."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        with self.client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    pytest.fail(f"server exited ({self.process.returncode}):\n{self.log()}")
                try:
                    if client.get(path).status_code == status:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        pytest.fail(f"{path} never answered {status}:\n{self.log()}")

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM, as Kubernetes sends it; wait for the exit and return its code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return int(self.process.returncode)


StartServer = Callable[..., ServerProcess]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Start servers with extra environment; every one is stopped when the test ends."""
    started: list[ServerProcess] = []

    def start(**environment: str) -> ServerProcess:
        server = ServerProcess(tmp_path / f"server-{len(started)}.log", environment)
        started.append(server)
        return server

    yield start
    for server in started:
        server.terminate()


@pytest.fixture(scope="module")
def ready_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server on the committed model, ready, shared by a test module."""
    server = ServerProcess(tmp_path_factory.mktemp("server") / "server.log", {})
    try:
        server.wait_until("/v2/health/ready")
        yield server
    finally:
        server.terminate()
