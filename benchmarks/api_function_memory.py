"""What the API function's MemorySize is chosen from: init time, latency and peak RSS of the BUILT
package under the Lambda runtime's Python (see docs/api.md, "Memory size").

    make sam-build
    .venv/bin/python benchmarks/api_function_memory.py --python "$(make -s print-LAMBDA_PYTHON)"

Runs one fresh process in ``.aws-sam/build/ApiFunction`` (Tracer on, no bytecode writing, as on
Lambda's read-only /var/task): times ``import nameorigin.lambda_api.handler`` (imports + model
load), then
calls ``lambda_handler`` with ``events/api/get_prediction.json`` and with one 10 000-name
``/predict`` request, and prints the numbers and the peak RSS as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from _local_aws import data_set_names

ROOT = Path(__file__).resolve().parents[1]

MEASURE = r"""
import contextlib, io, json, resource, sys, time
started = time.perf_counter()
from nameorigin.lambda_api import handler
init = time.perf_counter() - started

class Context:  # the built package carries no context class: Lambda brings its own
    aws_request_id = "benchmark"; function_name = "ApiFunction"; memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ApiFunction"
    def get_remaining_time_in_millis(self): return 29_000

sink = io.StringIO()
def run(event):
    with contextlib.redirect_stdout(sink):  # EMF blobs
        began = time.perf_counter()
        response = handler.lambda_handler(event, Context())
        took = time.perf_counter() - began
    assert response["statusCode"] == 200, response["body"][:300]
    return took

single, names = json.loads(sys.argv[1]), json.loads(sys.argv[2])
first = run(single)
singles = sorted(run(single) for _ in range(300))
batch = dict(single, path="/predict", resource="/predict",
             body=json.dumps({"names": names, "top_k": 3}))
batch_seconds = min(run(batch) for _ in range(3))
print(json.dumps({
    "init_seconds": round(init, 3),
    "first_request_ms": round(first * 1e3, 2),
    "single_name_p50_ms": round(singles[149] * 1e3, 3),
    "single_name_p99_ms": round(singles[296] * 1e3, 3),
    "batch_names": len(names),
    "batch_seconds": round(batch_seconds, 3),
    "batch_names_per_second": round(len(names) / batch_seconds),
    "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
}))
"""


def spread_names(count: int) -> list[str]:
    """``count`` surnames from the data set, cycling through every language."""
    names = data_set_names()
    return [names[i % len(names)] for i in range(0, count * 7, 7)]


def main() -> int:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", required=True, help="the Lambda runtime's interpreter")
    parser.add_argument("--package", type=Path, default=ROOT / ".aws-sam/build/ApiFunction")
    parser.add_argument("--names", type=int, default=10_000)
    args = parser.parse_args()

    single = (ROOT / "events/api/get_prediction.json").read_text(encoding="utf-8")
    environment = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(args.package),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_LAMBDA_FUNCTION_NAME": "ApiFunction",
        "POWERTOOLS_SERVICE_NAME": "nameorigin",
        "POWERTOOLS_METRICS_NAMESPACE": "NameOrigin",
        "NAMEORIGIN_INTRA_OP_THREADS": "1",
    }
    result = subprocess.run(
        [args.python, "-c", MEASURE, single, json.dumps(spread_names(args.names))],
        cwd=args.package,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        return result.returncode
    print(result.stdout.strip().splitlines()[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
