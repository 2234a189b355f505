"""``python -m nameorigin.server``: the container's process (and ``make serve``'s).

Listens on ``$PORT`` (default 8080) on ``$NAMEORIGIN_HTTP_HOST`` (default 0.0.0.0). On SIGTERM
uvicorn stops accepting and lets in-flight requests finish for up to
``$NAMEORIGIN_SHUTDOWN_TIMEOUT_SECONDS``, which is Knative's graceful shutdown contract.
"""

from __future__ import annotations

import logging

import uvicorn

from nameorigin.config import Settings
from nameorigin.server.app import create_app

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def build_server(settings: Settings) -> uvicorn.Server:
    """A uvicorn server for one process serving the app (Knative scales by adding pods)."""
    config = uvicorn.Config(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        lifespan="on",
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
        access_log=False,  # one log line per request costs more than the request; see /metrics
        server_header=False,
        log_config=None,  # logging is configured once, below, for uvicorn and nameorigin alike
    )
    return uvicorn.Server(config)


def main() -> None:
    """Configure logging and serve until SIGTERM/SIGINT."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    build_server(Settings.from_environ()).run()


if __name__ == "__main__":
    main()
