"""Invoke the BUILT Lambda function with an event, through the real Lambda runtime, without Docker.

``make invoke EVENT=events/api/get_prediction.json`` runs this. It starts the Runtime Interface
Emulator that ships inside the aws-sam-cli wheel on a free 127.0.0.1 port, with the Lambda runtime
interface client (``awslambdaric``, the one AWS's Python base images run) under the function's
Python version, and the built package (``.aws-sam/build/<Function>``) as the task root. It posts
the event, prints the function's response and stops the emulator.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
INVOCATIONS = "/2015-03-31/functions/function/invocations"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the emulator exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"the emulator did not listen on port {port} within {timeout} s")


def function_environment(task_root: Path, ric_dir: Path, function: str) -> dict[str, str]:
    """The environment Lambda would give the function (region, names, Powertools settings)."""
    keep = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    return {
        **keep,
        "LAMBDA_TASK_ROOT": str(task_root),
        "PYTHONPATH": f"{task_root}{os.pathsep}{ric_dir}",
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "POWERTOOLS_SERVICE_NAME": "nameorigin",
        "POWERTOOLS_METRICS_NAMESPACE": "NameOrigin",
        # No X-Ray daemon here; the Tracer would only log that it cannot send segments.
        "POWERTOOLS_TRACE_DISABLED": "true",
        "NAMEORIGIN_INTRA_OP_THREADS": "1",
    }


@contextlib.contextmanager
def running_function(
    *,
    rie: Path,
    python: str,
    task_root: Path,
    ric_dir: Path,
    handler: str,
    function: str = "ApiFunction",
    log: Any = subprocess.DEVNULL,
) -> Iterator[str]:
    """Run the emulator + runtime client for the built function; yields the invocation URL.

    Both ports are free ones on 127.0.0.1, picked just before start.
    """
    port = free_port()
    command = [
        str(rie),
        "--runtime-interface-emulator-address",
        f"127.0.0.1:{port}",
        # Its internal Runtime API (default 127.0.0.1:9001) gets a free port too, so several
        # emulators (parallel tests, other developers) can run at once.
        "--runtime-api-address",
        f"127.0.0.1:{free_port()}",
        python,
        "-m",
        "awslambdaric",
        handler,
    ]
    process = subprocess.Popen(
        command,
        cwd=task_root,
        env=function_environment(task_root, ric_dir, function),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopping it stops the runtime too
    )
    try:
        _wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}{INVOCATIONS}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def invoke(url: str, event: Mapping[str, Any], timeout: float = 60.0) -> dict[str, Any]:
    """POST one event to the emulator and return the function's response."""
    request = urllib.request.Request(url, data=json.dumps(event).encode("utf-8"), method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        result: dict[str, Any] = json.loads(answer.read())
    return result


def main(argv: list[str] | None = None) -> int:
    """CLI: print the function's response to EVENT (its body pretty-printed when it is JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("event", type=Path, help="event JSON file, e.g. events/api/predict.json")
    parser.add_argument("--rie", type=Path, required=True, help="aws-lambda-rie binary")
    parser.add_argument("--python", required=True, help="interpreter of the Lambda runtime")
    parser.add_argument("--ric-dir", type=Path, required=True, help="where awslambdaric is")
    parser.add_argument("--task-root", type=Path, default=ROOT / ".aws-sam/build/ApiFunction")
    parser.add_argument("--handler", default="nameorigin.lambda_api.handler.lambda_handler")
    parser.add_argument("--show-logs", action="store_true", help="print the function's logs too")
    args = parser.parse_args(argv)

    event = json.loads(args.event.read_text(encoding="utf-8"))
    log = sys.stderr if args.show_logs else subprocess.DEVNULL
    with running_function(
        rie=args.rie.resolve(),
        python=args.python,
        task_root=args.task_root.resolve(),
        ric_dir=args.ric_dir.resolve(),
        handler=args.handler,
        log=log,
    ) as url:
        response = invoke(url, event)
    body = response.get("body")
    if isinstance(body, str):
        with contextlib.suppress(json.JSONDecodeError):
            response = {**response, "body": json.loads(body)}
    print(json.dumps(response, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
