"""``nameorigin-batch``: submit batches, collect results, inspect and redrive the DLQ, run locally.

Works against AWS or any endpoint (``--endpoint-url`` or boto3's own ``AWS_ENDPOINT_URL``). Queue,
DLQ and bucket come from flags or from ``NAMEORIGIN_BATCH_QUEUE``, ``NAMEORIGIN_BATCH_DLQ`` and
``NAMEORIGIN_RESULTS_BUCKET`` (read through ``Settings``). ``submit`` prints one job id to stdout
(the file's batches are listed in the job's manifest) and everything meant for people goes to
stderr, so ``job=$(nameorigin-batch submit names.txt)`` then ``results "$job"`` works.
"""

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from botocore.exceptions import BotoCoreError, ClientError

from nameorigin.batch.messages import FileFormat
from nameorigin.config import DEFAULT_TOP_K, ConfigError, Settings
from nameorigin.tooling.cli.aws import EXIT_FAILURE, CliError
from nameorigin.tooling.cli.dlq import dlq
from nameorigin.tooling.cli.local import BATCH_HANDLER, local_up, poll
from nameorigin.tooling.cli.results import results
from nameorigin.tooling.cli.submit import DEFAULT_REFERENCE_THRESHOLD_BYTES, submit


def build_parser() -> argparse.ArgumentParser:
    """The ``nameorigin-batch`` command line."""
    parser = argparse.ArgumentParser(prog="nameorigin-batch", description=__doc__.split("\n")[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--endpoint-url", help="AWS endpoint (default: boto3's, AWS_ENDPOINT_URL)")
    common.add_argument("--region", help="AWS region (default: boto3's)")
    common.add_argument("--queue", help="batch queue name or URL (NAMEORIGIN_BATCH_QUEUE)")
    common.add_argument("--dlq", help="dead-letter queue name or URL (NAMEORIGIN_BATCH_DLQ)")
    common.add_argument("--bucket", help="results bucket (NAMEORIGIN_RESULTS_BUCKET)")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("submit", parents=[common], help="send a file of names as one job")
    p.add_argument("file", help="names file: .txt (one a line), .csv or .jsonl")
    p.add_argument("--top-k", type=int, default=DEFAULT_TOP_K)
    p.add_argument(
        "--job-id",
        "--batch-id",
        dest="batch_id",
        help="job id; its inline messages' batch ids are ID-00001, ID-00002 …",
    )
    p.add_argument("--format", choices=[f.value for f in FileFormat])
    p.add_argument(
        "--reference-threshold",
        type=int,
        default=DEFAULT_REFERENCE_THRESHOLD_BYTES,
        help="files above this many bytes are uploaded and sent as one s3_uri",
    )
    p.add_argument("--inline", action="store_true", help="never upload: always send inline")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=submit)

    p = commands.add_parser("results", parents=[common], help="wait for and print results")
    p.add_argument("batch_ids", nargs="+", metavar="JOB_ID", help="job ids (or plain batch ids)")
    p.add_argument(
        "--wait", type=float, default=300, help="seconds to wait with no batch finishing"
    )
    p.add_argument("--output", "-o", help="save the JSONL here instead of printing it")
    p.add_argument("--summary-only", action="store_true", help="print the summaries instead")
    p.set_defaults(run=results)

    p = commands.add_parser("dlq", parents=[common], help="list or redrive dead letters")
    p.add_argument("action", choices=["list", "redrive"])
    p.add_argument("--message-id", action="append", help="redrive only these (repeatable)")
    p.add_argument("--body-chars", type=int, default=300, help="list: longest body shown")
    p.set_defaults(run=dlq)

    p = commands.add_parser("local-up", parents=[common], help="create queue/DLQ/bucket locally")
    p.add_argument("--visibility-timeout", type=int, help="override the template's (seconds)")
    p.add_argument("--wait-for-endpoint", type=float, default=10, help="seconds")
    p.set_defaults(run=local_up)

    p = commands.add_parser("poll", parents=[common], help="run the local event source mapping")
    p.add_argument("--handler", default=BATCH_HANDLER)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--batching-window", type=float)
    p.set_defaults(run=poll)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of ``nameorigin-batch``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_environ()
        status: int = args.run(args, settings, out or sys.stdout)
    except (CliError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except (BotoCoreError, ClientError) as error:
        print(f"error: AWS: {error}", file=sys.stderr)
        return EXIT_FAILURE
    return status


if __name__ == "__main__":
    sys.exit(main())
