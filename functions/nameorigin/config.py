"""Every setting the service reads from its environment, in one place, each with its default.

Powertools reads its own variables (``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE``,
``POWERTOOLS_LOG_LEVEL`` …) itself; everything specific to nameorigin is read here and nowhere else.
Each entry point (``lambda_api``, ``lambda_batch``, ``server``, the tooling CLI) builds one
``Settings`` from its environment and passes it down; nothing else reads the environment.

Limits the model defines are not settings: the longest name is the manifest's ``max_name_length``
(a deployment may only lower it) and the top-k bound is the manifest's label count.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
#: Where ``sam build`` and the container image put the model: inside the package itself.
BUNDLED_MODEL_DIR = _PACKAGE_DIR / "model"
#: Where a source checkout keeps the committed model.
REPOSITORY_MODEL_DIR = _PACKAGE_DIR.parents[1] / "artifacts"


def default_model_dir() -> Path:
    """The bundled model when the package ships one, else the checkout's ``artifacts/``."""
    if (BUNDLED_MODEL_DIR / "manifest.json").is_file():
        return BUNDLED_MODEL_DIR
    return REPOSITORY_MODEL_DIR


#: Labels returned per name when a request does not say (API routes, batch messages, the CLI).
DEFAULT_TOP_K = 3
#: SQS's classic message size limit; the queue is configured with it (template.yaml).
SQS_MESSAGE_LIMIT_BYTES = 262_144
#: Most names one request or one inline batch message may carry, by default.
DEFAULT_MAX_BATCH_NAMES = 10_000


class ConfigError(ValueError):
    """An environment variable holds a value the service cannot use."""


def _int(environ: Mapping[str, str], key: str, default: int, minimum: int = 1) -> int:
    value = _optional_int(environ, key, minimum)
    return default if value is None else value


def _optional_int(environ: Mapping[str, str], key: str, minimum: int = 1) -> int | None:
    raw = environ.get(key)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw)
    except ValueError as error:
        raise ConfigError(f"{key} must be an integer, got {raw!r}") from error
    if value < minimum:
        raise ConfigError(f"{key} must be >= {minimum}, got {value}")
    return value


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(environ: Mapping[str, str], key: str, default: bool) -> bool:
    raw = environ.get(key)
    if raw is None or raw.strip() == "":
        return default
    if raw.strip().lower() in _TRUE:
        return True
    if raw.strip().lower() in _FALSE:
        return False
    raise ConfigError(f"{key} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    """Service settings; see the README's configuration table for each variable."""

    model_dir: Path
    #: onnxruntime intra-op threads, set explicitly: auto-detection breaks on Lambda's CPU affinity.
    intra_op_threads: int = 1
    #: Lowers the model's own longest-name limit (manifest ``max_name_length``); None keeps it.
    max_name_length: int | None = None
    #: Most names one request or one queue message may carry inline.
    max_batch_names: int = DEFAULT_MAX_BATCH_NAMES
    #: Largest accepted request body, in bytes.
    max_body_bytes: int = 1_048_576
    #: Names per onnxruntime run after sorting by length (bounds padding and memory).
    bucket_size: int = 256
    #: Threads running one batch's buckets concurrently (one per vCPU a batch may use).
    batch_threads: int = 1
    #: Bucket that receives batch results (SQS function, CloudEvents endpoint).
    results_bucket: str = ""
    #: Prefix of result objects inside the results bucket.
    results_prefix: str = "results/"
    #: Names classified per chunk when streaming a claim-check file.
    stream_chunk_names: int = 20_000
    #: Largest claim-check object accepted, in bytes.
    max_object_bytes: int = 256 * 1024 * 1024
    #: Most names one claim-check file may hold (the function's timeout bounds it: docs/batch.md).
    max_object_names: int = 2_000_000
    #: Largest inline batch message, in bytes (SQS's classic limit, which the queue is set to).
    max_message_bytes: int = SQS_MESSAGE_LIMIT_BYTES
    #: Batch queue (name or URL) the batch CLI sends to and the local poller reads from.
    batch_queue: str = ""
    #: Its dead-letter queue (name or URL), for the CLI's ``dlq`` command.
    batch_dlq: str = ""
    #: Prefix under which ``submit`` uploads files too large to send inline (claim checks).
    upload_prefix: str = "uploads/"
    #: Interface the HTTP process (Knative) listens on; ``make serve`` passes 127.0.0.1.
    http_host: str = "0.0.0.0"
    #: Port of the HTTP process; Knative sets ``PORT`` itself (a manifest may not set it).
    http_port: int = 8080
    #: Seconds the HTTP process lets in-flight requests finish after SIGTERM before closing them.
    shutdown_timeout_seconds: int = 30
    #: HTTP worker processes (one per core of the pod's CPU limit; docs/knative.md, "Sizing").
    http_workers: int = 2
    #: Per HTTP worker: low-priority processes that resolve large bodies (batches, CloudEvents),
    #: so small requests never wait behind them (docs/knative.md, "Mixed traffic"). 0: none, every
    #: request in the worker (the design before them; the benchmarks' baseline).
    batch_processes: int = 1
    #: Trace Lambda invocations with X-Ray through Powertools Tracer. Off by default: importing the
    #: X-Ray SDK alone adds about 0.25 s to every cold start (benchmarks/cold_start.py).
    tracing: bool = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings; an unusable value raises ConfigError naming the variable."""
        env = os.environ if environ is None else environ
        model_dir = env.get("NAMEORIGIN_MODEL_DIR")
        return cls(
            model_dir=Path(model_dir) if model_dir else default_model_dir(),
            intra_op_threads=_int(env, "NAMEORIGIN_INTRA_OP_THREADS", cls.intra_op_threads),
            max_name_length=_optional_int(env, "NAMEORIGIN_MAX_NAME_LENGTH"),
            max_batch_names=_int(env, "NAMEORIGIN_MAX_BATCH_NAMES", cls.max_batch_names),
            max_body_bytes=_int(env, "NAMEORIGIN_MAX_BODY_BYTES", cls.max_body_bytes),
            bucket_size=_int(env, "NAMEORIGIN_BUCKET_SIZE", cls.bucket_size),
            batch_threads=_int(env, "NAMEORIGIN_BATCH_THREADS", cls.batch_threads),
            results_bucket=env.get("NAMEORIGIN_RESULTS_BUCKET", cls.results_bucket),
            results_prefix=env.get("NAMEORIGIN_RESULTS_PREFIX", cls.results_prefix),
            stream_chunk_names=_int(env, "NAMEORIGIN_STREAM_CHUNK_NAMES", cls.stream_chunk_names),
            max_object_bytes=_int(env, "NAMEORIGIN_MAX_OBJECT_BYTES", cls.max_object_bytes),
            max_object_names=_int(env, "NAMEORIGIN_MAX_OBJECT_NAMES", cls.max_object_names),
            max_message_bytes=_int(env, "NAMEORIGIN_MAX_MESSAGE_BYTES", cls.max_message_bytes),
            batch_queue=env.get("NAMEORIGIN_BATCH_QUEUE", cls.batch_queue),
            batch_dlq=env.get("NAMEORIGIN_BATCH_DLQ", cls.batch_dlq),
            upload_prefix=env.get("NAMEORIGIN_UPLOAD_PREFIX", cls.upload_prefix),
            http_host=env.get("NAMEORIGIN_HTTP_HOST", cls.http_host),
            http_port=_int(env, "PORT", cls.http_port),
            tracing=_bool(env, "NAMEORIGIN_TRACING", cls.tracing),
            http_workers=_int(env, "NAMEORIGIN_HTTP_WORKERS", cls.http_workers),
            batch_processes=_int(env, "NAMEORIGIN_BATCH_PROCESSES", cls.batch_processes, minimum=0),
            shutdown_timeout_seconds=_int(
                env, "NAMEORIGIN_SHUTDOWN_TIMEOUT_SECONDS", cls.shutdown_timeout_seconds
            ),
        )
