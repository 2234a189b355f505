"""``python -m nameorigin.server``: the container's process (and ``make serve``'s).

Listens on ``$PORT`` (default 8080) on ``$NAMEORIGIN_HTTP_HOST`` (default 0.0.0.0) with
``$NAMEORIGIN_HTTP_WORKERS`` uvicorn worker processes (default 2, one per core of the pod's CPU
limit) sharing the socket; uvicorn's supervisor restarts a worker that dies. On SIGTERM uvicorn
stops accepting and lets in-flight requests finish for up to
``$NAMEORIGIN_SHUTDOWN_TIMEOUT_SECONDS``, which is Knative's graceful shutdown contract.

This module imports neither the app nor prometheus_client: workers are fresh processes that build
the app themselves (``app_from_environ``), after the metrics directory is in their environment.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from uvicorn.supervisors import Multiprocess

from nameorigin.config import Settings
from nameorigin.server import LOG_FORMAT

#: The ASGI app factory every worker calls.
APP_FACTORY = "nameorigin.server.app:app_from_environ"
#: prometheus_client's multiprocess directory (nameorigin.server.metrics).
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def build_config(settings: Settings) -> uvicorn.Config:
    """uvicorn's configuration for these settings (Knative scales further by adding pods)."""
    return uvicorn.Config(
        APP_FACTORY,
        factory=True,
        host=settings.http_host,
        port=settings.http_port,
        workers=settings.http_workers,
        lifespan="on",
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
        access_log=False,  # one log line per request costs more than the request; see /metrics
        server_header=False,
        log_config=None,  # logging is configured once, below, for uvicorn and nameorigin alike
    )


@contextmanager
def shared_metrics_directory(workers: int) -> Iterator[None]:
    """With several workers, a fresh directory for their metrics (removed at exit)."""
    if workers == 1 or os.environ.get(METRICS_DIR_ENV):
        yield
        return
    directory = tempfile.mkdtemp(prefix="nameorigin-metrics-")
    os.environ[METRICS_DIR_ENV] = directory
    try:
        yield
    finally:
        os.environ.pop(METRICS_DIR_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)


def serve(settings: Settings) -> None:
    """Serve until SIGTERM/SIGINT: one process, or a supervisor and its workers."""
    config = build_config(settings)
    with shared_metrics_directory(config.workers):
        if config.workers == 1:
            uvicorn.Server(config).run()
        else:
            Multiprocess(config, sockets=[config.bind_socket()]).run()


def main() -> None:
    """Configure logging and serve."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    serve(Settings.from_environ())


if __name__ == "__main__":
    main()
