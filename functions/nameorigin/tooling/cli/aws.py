"""What every ``nameorigin-batch`` command shares: boto3 clients, queue URLs, errors, progress."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

#: SQS's most entries per SendMessageBatch / ReceiveMessage / ChangeMessageVisibilityBatch.
SEND_BATCH_MAX_ENTRIES = 10
EXIT_FAILURE, EXIT_TIMEOUT = 1, 2


class CliError(RuntimeError):
    """A problem the user can fix; printed without a traceback."""


class Aws:
    """boto3 clients for one endpoint/region, and queue names resolved to URLs."""

    def __init__(self, endpoint_url: str | None, region: str | None) -> None:
        session = boto3.session.Session(region_name=region)
        self.sqs: SQSClient = session.client("sqs", endpoint_url=endpoint_url)
        self.s3: S3Client = session.client("s3", endpoint_url=endpoint_url)

    def queue_url(self, name_or_url: str, what: str) -> str:
        """A queue URL from a URL or a name (``GetQueueUrl``)."""
        if not name_or_url:
            raise CliError(f"no {what} given: pass --{what} or set NAMEORIGIN_BATCH_{what.upper()}")
        if name_or_url.startswith(("http://", "https://")):
            return name_or_url
        return self.sqs.get_queue_url(QueueName=name_or_url)["QueueUrl"]


def progress(total: int | None, unit: str, description: str, enabled: bool) -> Any:
    """A tqdm bar on stderr (the ``cli`` extra), or a silent stand-in when disabled or absent."""
    try:
        from tqdm import tqdm  # type: ignore[import-untyped]  # noqa: PLC0415 - CLI only
    except ImportError:  # pragma: no cover - depends on the installed extras
        enabled = False
    if not enabled:
        return _NoProgress()
    return tqdm(total=total, unit=unit, unit_scale=True, desc=description, file=sys.stderr)


class _NoProgress:
    def update(self, count: int) -> None:
        """Ignore."""

    def close(self) -> None:
        """Ignore."""
