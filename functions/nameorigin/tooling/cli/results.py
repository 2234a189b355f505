"""``nameorigin-batch results``: wait for a job's batches (or plain batches), check each against
its summary, and print or save them as one output."""

from __future__ import annotations

import argparse
import codecs
import hashlib
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from nameorigin.batch.job_manifest import JobManifest, read_manifest
from nameorigin.batch.results import BatchSummary
from nameorigin.batch.store import S3BatchStore
from nameorigin.config import Settings
from nameorigin.tooling.cli.aws import EXIT_FAILURE, EXIT_TIMEOUT, Aws, CliError
from nameorigin.tooling.cli.dlq import diagnose, message_batch_id, peek_all


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


@dataclass(frozen=True)
class Target:
    """What one id on the command line asks for: a job's batches, or one plain batch."""

    requested: str
    batch_ids: list[str]
    manifest: JobManifest | None = None


@dataclass
class Progress:
    """Where the waited-for batches stand."""

    done: dict[str, BatchSummary] = field(default_factory=dict)
    dead: dict[str, str] = field(default_factory=dict)  # batch id → why it failed

    def settled(self, batch_ids: Sequence[str]) -> bool:
        """Every batch either has results or has failed (in the DLQ, or doomed)."""
        return all(b in self.done or b in self.dead for b in batch_ids)


def wait_for_batches(
    store: S3BatchStore,
    batch_ids: Sequence[str],
    wait_seconds: float,
    dead_letters: Callable[[], dict[str, str]] | None,
    digests: Mapping[str, str] | None = None,
    dlq_every: float = 3.0,
) -> Progress:
    """Poll summaries (and the DLQ) until every batch is done or dead, or nothing moved for
    ``wait_seconds`` (then some are neither: the caller reports a timeout).

    ``digests``: batch id → its message's sha256 (from a job manifest). A summary of another
    message under that id means the worker will refuse ours: that batch is dead already.
    """
    state = Progress()
    deadline = time.monotonic() + wait_seconds
    next_dlq = time.monotonic()
    delay = 0.2
    while True:
        for batch_id in batch_ids:
            if batch_id in state.done:
                continue
            summary = store.read_summary(batch_id)
            expected = (digests or {}).get(batch_id)
            if summary is not None and expected and summary.message_sha256 != expected:
                state.dead[batch_id] = (
                    f"batch_id {batch_id!r} already holds the results of a different message "
                    "(the worker refuses to overwrite them; its message ends in the DLQ)"
                )
            elif summary is not None:
                state.done[batch_id] = summary
                state.dead.pop(batch_id, None)  # redriven and done meanwhile
                deadline = time.monotonic() + wait_seconds
        if dead_letters is not None and time.monotonic() >= next_dlq:
            dead = dead_letters()
            state.dead.update({b: dead[b] for b in batch_ids if b in dead and b not in state.done})
            next_dlq = time.monotonic() + dlq_every
        if state.settled(batch_ids) or time.monotonic() >= deadline:
            return state
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 5.0)


def dead_letter_reasons(
    aws: Aws, dlq_url: str, settings: Settings, store: S3BatchStore
) -> Callable[[], dict[str, str]]:
    """A check of the DLQ: batch id → the diagnosis of its dead-lettered message."""

    def check() -> dict[str, str]:
        reasons: dict[str, str] = {}
        for message in peek_all(aws.sqs, dlq_url):
            batch_id = message_batch_id(message["Body"], settings)
            if batch_id is not None:
                reasons[batch_id] = "in the DLQ: " + diagnose(message["Body"], settings, store)
        return reasons

    return check


def results(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """Wait for jobs or batches and print (or save) their results in the order the ids were given.

    A job's lines come out in input order with ``index`` counting from the file's first name. Exit
    status 1 when a batch failed or is in the DLQ (each is named, with the reason), 2 on a timeout.
    """
    aws = Aws(args.endpoint_url, args.region)
    store = S3BatchStore(aws.s3, args.bucket or settings.results_bucket, settings.results_prefix)
    targets = [resolve(store, requested) for requested in args.batch_ids]
    wanted = [batch_id for target in targets for batch_id in target.batch_ids]
    dlq_name = args.dlq or settings.batch_dlq
    dead_letters = (
        dead_letter_reasons(aws, aws.queue_url(dlq_name, "dlq"), settings, store)
        if dlq_name
        else None
    )
    digests = {
        batch.batch_id: batch.message_sha256
        for target in targets
        if target.manifest is not None
        for batch in target.manifest.batches
    }
    state = wait_for_batches(store, wanted, args.wait, dead_letters, digests)
    if state.dead:
        for target in targets:
            for batch_id in target.batch_ids:
                if batch_id in state.dead:
                    print(
                        f"error: {_where(target, batch_id)} failed: {state.dead[batch_id]}",
                        file=sys.stderr,
                    )
        missing = [b for b in wanted if b not in state.done and b not in state.dead]
        if missing:
            print(
                f"still waiting for {len(missing)} batch(es): {' '.join(missing)}", file=sys.stderr
            )
        print(f"{len(state.dead)} batch(es) failed; no results written", file=sys.stderr)
        return EXIT_FAILURE
    missing = [b for b in wanted if b not in state.done]
    if missing:
        for target in targets:
            for batch_id in target.batch_ids:
                if batch_id in missing:
                    print(
                        f"error: {_where(target, batch_id)} has no results after {args.wait:g} s",
                        file=sys.stderr,
                    )
        return EXIT_TIMEOUT
    if args.summary_only:
        for batch_id in wanted:
            out.write(state.done[batch_id].model_dump_json(indent=2) + "\n")
        return 0
    with ExitStack() as stack:
        write = (
            stack.enter_context(Path(args.output).open("wb")).write
            if args.output
            else _text_writer(out)
        )
        for target in targets:
            write_target(store, target, [state.done[b] for b in target.batch_ids], write)
    return 0


def resolve(store: S3BatchStore, requested: str) -> Target:
    """A job id (its manifest exists) or else a plain batch id, as before jobs existed."""
    manifest = read_manifest(store.client, store.bucket, requested)
    if manifest is None:
        return Target(requested, [requested])
    return Target(requested, list(manifest.batch_ids), manifest)


def write_target(
    store: S3BatchStore,
    target: Target,
    summaries: Sequence[BatchSummary],
    write: Callable[[bytes], Any],
) -> None:
    """Copy a target's results through ``write``: a job's renumbered to input positions."""
    if target.manifest is None:
        for summary in summaries:
            fetch_results(store, summary, write)
            print(_summary_line(summary), file=sys.stderr)
        return
    total = sum(summary.count for summary in summaries)
    if target.manifest.names is not None and total != target.manifest.names:
        raise CliError(
            f"job {target.requested}: its batches hold {total} names, its manifest "
            f"{target.manifest.names}"
        )
    offset = 0
    for summary in summaries:
        renumber = Renumber(write, offset)
        fetch_results(store, summary, renumber)
        renumber.close()
        offset += summary.count
    rejected = sum(summary.rejected for summary in summaries)
    print(
        f"job {target.requested} ({target.manifest.input_file}): {len(summaries)} batch(es), "
        f"{total} names, {rejected} rejected",
        file=sys.stderr,
    )


class Renumber:
    """Rewrites each result line's ``index`` to its position in the job's input (bytes in, out)."""

    def __init__(self, write: Callable[[bytes], Any], offset: int) -> None:
        self.write, self.offset, self.pending = write, offset, b""

    def __call__(self, block: bytes) -> None:
        """Take a block; write the whole lines it completes."""
        *lines, self.pending = (self.pending + block).split(b"\n")
        if lines:
            self.write(b"".join(self._line(line) for line in lines))

    def close(self) -> None:
        """Write a last line that had no newline."""
        if self.pending:
            self.write(self._line(self.pending))
            self.pending = b""

    def _line(self, raw: bytes) -> bytes:
        line = json.loads(raw)
        line["index"] += self.offset
        return json.dumps(line, ensure_ascii=False).encode() + b"\n"


def _where(target: Target, batch_id: str) -> str:
    if target.manifest is None:
        return f"batch {batch_id}"
    number = target.batch_ids.index(batch_id) + 1
    return f"batch {batch_id} ({number} of {len(target.batch_ids)} of job {target.requested})"


def _summary_line(summary: BatchSummary) -> str:
    return (
        f"{summary.batch_id}: {summary.count} names, {summary.rejected} rejected "
        f"{dict(summary.rejected_by_reason) or ''}, model {summary.model.version}, "
        f"s3://{summary.results.bucket}/{summary.results.key}"
    )
