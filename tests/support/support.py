"""What many tests (and the benchmarks) share: a Lambda context, loopback ports, a real moto
server, the names data set, and hadolint. One copy of each instead of one per test module."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nameorigin.lambda_context import LocalLambdaContext

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
#: Where this machine and CI keep the data set when NAMEORIGIN_DATA_DIR is unset.
SHARED_DATA_DIR = REPOSITORY_ROOT.parent / "shared" / "data" / "names"
#: The request id every test context carries (logs are checked for it).
TEST_REQUEST_ID = "52fdfc07-2182-454f-963f-5f0f9a621d72"


def lambda_context(function_name: str = "ApiFunction", **fields: object) -> LocalLambdaContext:
    """A Lambda context for calling handlers directly (Powertools reads its fields)."""
    values: dict[str, object] = {
        "function_name": function_name,
        "aws_request_id": TEST_REQUEST_ID,
        "memory_limit_in_mb": 1024,
        "timeout_seconds": 29.0,
        **fields,
    }
    return LocalLambdaContext(**values)  # type: ignore[arg-type]


def free_port() -> int:
    """A loopback TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """A real moto server (AWS over HTTP) on a free loopback port; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer  # noqa: PLC0415 - only the AWS tests need moto

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def data_dir() -> Path | None:
    """The names data set: ``NAMEORIGIN_DATA_DIR``, else the shared copy, else None."""
    configured = os.environ.get("NAMEORIGIN_DATA_DIR")
    if configured:
        return Path(configured)
    return SHARED_DATA_DIR if SHARED_DATA_DIR.is_dir() else None


def data_set_names(directory: Path | None = None) -> list[str]:
    """Every surname of the data set, file by file in name order (empty when there is none)."""
    directory = directory or data_dir()
    if directory is None:
        return []
    return [
        line.strip()
        for path in sorted(directory.glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def surnames(count: int, seed: int = 3) -> list[str]:
    """``count`` names drawn from the data set, or synthetic ones when it is absent."""
    rng = random.Random(seed)
    pool = data_set_names()
    if not pool:
        syllables = ["ka", "to", "mi", "ro", "sch", "ni", "vic", "ez", "son", "li", "ng", "ov"]
        pool = ["".join(rng.choice(syllables) for _ in range(3)).title() for _ in range(20_000)]
    return [rng.choice(pool) for _ in range(count)]


def hadolint_findings(dockerfile: Path) -> str:
    """What hadolint (installed beside the interpreter by ``make venv``) says about a container
    file at the strictest threshold; empty when it is clean."""
    hadolint = Path(sys.executable).parent / "hadolint"
    assert hadolint.is_file(), "hadolint not found beside the interpreter: run `make venv`"
    result = subprocess.run(
        [str(hadolint), "--failure-threshold", "style", str(dockerfile)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    findings = (result.stdout + result.stderr).strip()
    return findings or ("" if result.returncode == 0 else f"exit status {result.returncode}")
