"""Names per second end to end through the local queue, exactly as ``make queue-up`` runs it.

submit (CLI: inline messages via SendMessageBatch) → SQS (moto server, own process) → local poller
(own process: ``python -m nameorigin.tooling poll``, the real Lambda handler) → S3 results → collect
(CLI ``results``, sha256-checked). The clock starts when ``submit`` starts (the poller is already
up with its model loaded, like a warm Lambda) and stops when the last result has been downloaded.

Run: ``.venv/bin/python benchmarks/queue_throughput.py`` (``--names``, ``--batch-size``, ``-h``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _local_aws import moto_server, surnames

from nameorigin.batch.job_manifest import read_manifest
from nameorigin.batch.store import S3BatchStore
from nameorigin.tooling import cli, topology


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--names", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=topology.Topology().batch_size)
    parser.add_argument("--batching-window", type=float, default=0.5)
    args = parser.parse_args()

    with moto_server(), tempfile.TemporaryDirectory() as scratch:
        shape = topology.Topology()
        created = topology.create(shape, boto3.client("sqs"), boto3.client("s3"))
        source = Path(scratch) / "names.txt"
        source.write_text("\n".join(surnames(args.names)) + "\n", encoding="utf-8")
        env = {
            **os.environ,
            "NAMEORIGIN_RESULTS_BUCKET": created.bucket,
            "NAMEORIGIN_BATCH_QUEUE": created.queue_url,
        }
        poller = subprocess.Popen(
            [sys.executable, "-m", "nameorigin.tooling", "poll", "--batch-size",
             str(args.batch_size), "--batching-window", str(args.batching_window)],
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            assert poller.stderr is not None
            poller.stderr.readline()  # "polling …": imports done, model loaded
            started = time.perf_counter()
            printed = io.StringIO()
            argv = ["submit", str(source), "--queue", created.queue_url, "--quiet"]
            assert cli.main([*argv, "--bucket", created.bucket], printed) == 0
            job_id = printed.getvalue().strip()
            submitted = time.perf_counter()
            output = Path(scratch) / "results.jsonl"
            argv = ["results", job_id, "--bucket", created.bucket, "--output", str(output)]
            assert cli.main(argv, io.StringIO()) == 0
            finished = time.perf_counter()
        finally:
            poller.terminate()
            poller.wait(timeout=10)
        lines = sum(1 for _ in output.open("rb"))
        assert lines == args.names, (lines, args.names)
        store = S3BatchStore(boto3.client("s3"), created.bucket)
        manifest = read_manifest(store.client, created.bucket, job_id)
        assert manifest is not None
        batch_ids = manifest.batch_ids
        summaries = [store.read_summary(batch_id) for batch_id in batch_ids]
        classify = sum(s.timings.classify_seconds for s in summaries if s is not None)
        write = sum(s.timings.write_seconds for s in summaries if s is not None)
        elapsed = finished - started
        print(
            json.dumps(
                {
                    "names": args.names,
                    "messages": len(batch_ids),
                    "batch_size": args.batch_size,
                    "submit_seconds": round(submitted - started, 2),
                    "end_to_end_seconds": round(elapsed, 2),
                    "names_per_second_end_to_end": round(args.names / elapsed),
                    "handler_classify_seconds": round(classify, 2),
                    "handler_write_seconds": round(write, 2),
                    "names_per_second_in_handler": round(args.names / (classify + write)),
                    "cpus": os.cpu_count(),
                    "load_average_1m": round(os.getloadavg()[0], 2),
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
