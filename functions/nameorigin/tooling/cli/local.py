"""``nameorigin-batch local-up`` and ``poll``: the template's queue on a local endpoint (moto) and
the stand-in for Lambda's SQS event source mapping that feeds it to the batch handler."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from contextlib import suppress
from typing import TextIO

from botocore.exceptions import BotoCoreError, ClientError

from nameorigin.config import Settings
from nameorigin.tooling import topology
from nameorigin.tooling.cli.aws import Aws, CliError

#: Lambda's Handler setting of the BatchFunction in template.yaml.
BATCH_HANDLER = "nameorigin.lambda_batch.handler.lambda_handler"


def local_up(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """Create the template's queue, DLQ and bucket on a local endpoint (moto)."""
    if not args.endpoint_url:
        raise CliError("local-up creates resources outside CloudFormation: give --endpoint-url")
    aws = Aws(args.endpoint_url, args.region)
    _wait_for_endpoint(aws, args.wait_for_endpoint)
    shape = topology.Topology().with_visibility_timeout(args.visibility_timeout)
    created = topology.create(shape, aws.sqs, aws.s3)
    out.write(
        f"queue {created.queue_url}\ndlq {created.dlq_url}\nbucket {created.bucket}\n"
        f"visibility timeout {shape.visibility_timeout_seconds} s, "
        f"maxReceiveCount {shape.max_receive_count}\n"
    )
    return 0


def _wait_for_endpoint(aws: Aws, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            aws.sqs.list_queues()
            return
        except (BotoCoreError, ClientError):
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


def poll(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """Run the local event source mapping until interrupted."""
    from nameorigin.tooling.poller import LocalEventSourceMapping, load_handler  # noqa: PLC0415

    logging.basicConfig(level=logging.INFO, format="%(asctime)s poller %(message)s")
    aws = Aws(args.endpoint_url, args.region)
    shape = topology.Topology()
    mapping = LocalEventSourceMapping(
        aws.sqs,
        aws.queue_url(args.queue or settings.batch_queue, "queue"),
        load_handler(args.handler),
        batch_size=args.batch_size or shape.batch_size,
        batching_window_seconds=(
            shape.batching_window_seconds if args.batching_window is None else args.batching_window
        ),
        region=aws.sqs.meta.region_name,
        function_timeout_seconds=shape.function_timeout_seconds,
    )
    print(f"polling {mapping.queue_url} with {args.handler} (Ctrl-C stops)", file=sys.stderr)
    stop = stop_on_signals()
    with suppress(KeyboardInterrupt):
        mapping.run(stop)
    return 0


def stop_on_signals() -> threading.Event:
    """An event that Ctrl-C or SIGTERM (a container stop) sets: the batch in hand finishes, then
    the loop ends within one receive wait. A second signal stops at once.

    Explicit handlers, not Python's KeyboardInterrupt: that one can land inside the SDK's calls
    and is not installed at all when the parent (a test runner, a supervisor) ignores SIGINT.
    """
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, request_stop)
    return stop
