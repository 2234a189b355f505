"""A million-name claim-check file through ``run_batch``: time, peak memory, /tmp and result size.

What it answers: does one message of NAMEORIGIN_MAX_OBJECT_NAMES names fit the batch function's
limits (900 s timeout, 2048 MB memory, 2048 MB /tmp)? The file is uploaded to a moto server (own
process), then one ``run_batch`` streams it in chunks of NAMEORIGIN_STREAM_CHUNK_NAMES, spools the
results and uploads them (multipart). Peak RSS is this process's (moto runs elsewhere).

Run: ``.venv/bin/python benchmarks/claim_check_million.py`` (``--names``, ``--chunk``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _local_aws import moto_server, surnames

from nameorigin.batch.jobs import run_batch
from nameorigin.batch.store import S3BatchStore
from nameorigin.config import Settings
from nameorigin.core.model_store import ModelStore
from nameorigin.tooling import topology


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--names", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=Settings.stream_chunk_names)
    args = parser.parse_args()

    with moto_server(), tempfile.TemporaryDirectory() as scratch:
        created = topology.create(topology.Topology(), boto3.client("sqs"), boto3.client("s3"))
        source = Path(scratch) / "million.txt"
        with source.open("w", encoding="utf-8") as handle:
            for start in range(0, args.names, 100_000):
                block = surnames(min(100_000, args.names - start), seed=start)
                handle.write("\n".join(block) + "\n")
        s3 = boto3.client("s3")
        s3.upload_file(str(source), created.bucket, "uploads/bench/million.txt")
        del block

        settings = dataclasses.replace(
            Settings.from_environ(), results_bucket=created.bucket, stream_chunk_names=args.chunk
        )
        classifier = ModelStore(settings).load()
        classifier.classify(["Warmup"], 3)
        rss_before = peak_rss_mb()
        started = time.perf_counter()
        summary = run_batch(
            {"s3_uri": f"s3://{created.bucket}/uploads/bench/million.txt"},
            classifier=classifier,
            store=S3BatchStore.from_settings(settings, client=s3),
            settings=settings,
        )
        elapsed = time.perf_counter() - started
        head = s3.head_object(Bucket=created.bucket, Key=summary.results.key)
        print(
            json.dumps(
                {
                    "names": summary.count,
                    "chunk_names": args.chunk,
                    "source_mb": round(source.stat().st_size / 2**20, 1),
                    "results_mb": round(summary.results.bytes / 2**20, 1),
                    "bytes_per_result_line": round(summary.results.bytes / summary.count),
                    "results_etag": head["ETag"],
                    "seconds_total": round(elapsed, 1),
                    "seconds_read_classify_spool": summary.timings.classify_seconds,
                    "seconds_upload": summary.timings.write_seconds,
                    "names_per_second": round(summary.count / elapsed),
                    "peak_rss_mb_before_batch": round(rss_before, 1),
                    "peak_rss_mb": round(peak_rss_mb(), 1),
                    "cpus": os.cpu_count(),
                    "load_average_1m": round(os.getloadavg()[0], 2),
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
