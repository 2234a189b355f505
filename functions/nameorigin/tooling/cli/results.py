"""``nameorigin-batch results``: wait for batches, check each against its summary, print or save."""

from __future__ import annotations

import argparse
import codecs
import hashlib
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TextIO

from nameorigin.batch.results import BatchSummary
from nameorigin.batch.store import S3BatchStore
from nameorigin.config import Settings
from nameorigin.tooling.cli.aws import EXIT_TIMEOUT, Aws, CliError


def wait_for_summary(store: S3BatchStore, batch_id: str, wait_seconds: float) -> BatchSummary:
    """Poll for the batch's summary (the marker of a complete batch) until it appears."""
    deadline = time.monotonic() + wait_seconds
    delay = 0.2
    while True:
        summary = store.read_summary(batch_id)
        if summary is not None:
            return summary
        if time.monotonic() >= deadline:
            raise TimeoutError(f"batch {batch_id} has no results after {wait_seconds:g} s")
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 5.0)


def fetch_results(
    store: S3BatchStore, summary: BatchSummary, write: Callable[[bytes], Any]
) -> None:
    """Copy the results object through ``write``, checking it against the summary's sha256."""
    response = store.client.get_object(Bucket=summary.results.bucket, Key=summary.results.key)
    digest = hashlib.sha256()
    for block in response["Body"].iter_chunks(1 << 20):
        digest.update(block)
        write(block)
    if digest.hexdigest() != summary.results.sha256:
        raise CliError(
            f"results of {summary.batch_id} do not match their summary's sha256 "
            "(rewritten meanwhile by another delivery?): fetch again"
        )


def _text_writer(out: TextIO) -> Callable[[bytes], Any]:
    """Write UTF-8 bytes to a text stream, never splitting a character across blocks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    return lambda block: out.write(decoder.decode(block))


def results(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """Wait for batches and print (or save) their results in the order the ids were given."""
    aws = Aws(args.endpoint_url, args.region)
    store = S3BatchStore(aws.s3, args.bucket or settings.results_bucket, settings.results_prefix)
    summaries = []
    for batch_id in args.batch_ids:
        try:
            summaries.append(wait_for_summary(store, batch_id, args.wait))
        except TimeoutError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_TIMEOUT
    if args.summary_only:
        for summary in summaries:
            out.write(summary.model_dump_json(indent=2) + "\n")
        return 0
    with ExitStack() as stack:
        write = (
            stack.enter_context(Path(args.output).open("wb")).write
            if args.output
            else _text_writer(out)
        )
        for summary in summaries:
            fetch_results(store, summary, write)
            print(_summary_line(summary), file=sys.stderr)
    return 0


def _summary_line(summary: BatchSummary) -> str:
    return (
        f"{summary.batch_id}: {summary.count} names, {summary.rejected} rejected "
        f"{dict(summary.rejected_by_reason) or ''}, model {summary.model.version}, "
        f"s3://{summary.results.bucket}/{summary.results.key}"
    )
