"""`sam local invoke BatchFunction` against a local moto server, keeping the result objects.

``make sam-local-batch EVENT=events/sqs/inline-batch.json`` runs this. Steps:

1. a moto server (S3 over HTTP) in a container beside the function's: the Lambda image's Python
   with moto (``make`` installs it in build/moto-py3.12), published on 127.0.0.1 only, so this
   script reaches it on the loopback and the function by the container's address on the engine's
   bridge network (the way SAM users run LocalStack); the results bucket on it, and the
   claim-check file(s) uploaded where the event's ``s3_uri`` points (``--claim-check FILE``);
2. a copy of the BUILT template (``sam build`` output, beside it so ``CodeUri`` still resolves)
   that also gives BatchFunction ``AWS_ENDPOINT_URL`` (boto3's endpoint): ``sam local`` only passes
   the variables a template declares, so neither ``--env-vars`` nor the shell can add it;
3. ``sam-local/sam.sh local invoke BatchFunction`` (the real SAM CLI, the function in its
   container), with ``--env-vars`` pointing NAMEORIGIN_RESULTS_BUCKET at the local bucket;
4. every ``results/`` object the function wrote, saved under ``--out``; the function's
   response and the saved files printed as JSON; the moto container removed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import yaml

ROOT = Path(__file__).resolve().parents[1]
FUNCTION = "BatchFunction"
DEFAULT_BUCKET = "nameorigin-results-123456789012-us-east-1"
REGION = "us-east-1"
#: Dummy credentials: moto accepts any, and sam passes the shell's into the function.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    import socket  # noqa: PLC0415 - only here

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def engine_command() -> list[str]:
    """The container engine's CLI: podman (with sam-local/containers.conf), else docker."""
    if shutil.which("podman"):
        os.environ.setdefault("CONTAINERS_CONF", str(ROOT / "sam-local" / "containers.conf"))
        return ["podman"]
    return ["docker"]


@contextmanager
def moto_container(image: str, moto_dir: Path) -> Iterator[tuple[str, str]]:
    """A moto server in a container on the engine's default bridge network, published on the
    loopback; yields its endpoint for this host and for other containers; removes it afterwards."""
    engine = engine_command()
    port = free_port()
    name = f"nameorigin-samlocal-moto-{os.getpid()}-{port}"
    subprocess.run(
        [
            *engine,
            "run",
            "--detach",
            "--rm",
            "--name",
            name,
            "--network",
            "bridge",
            "--publish",
            f"127.0.0.1:{port}:5000",
            "--volume",
            f"{moto_dir}:/opt/moto:ro",
            "--env",
            "PYTHONPATH=/opt/moto",
            "--entrypoint",
            "/var/lang/bin/python3.12",
            image,
            "-m",
            "moto.server",
            "--host",
            "0.0.0.0",  # inside the container's own network namespace
            "--port",
            "5000",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=120,
    )
    try:
        address = subprocess.run(
            [*engine, "inspect", "--format", "{{.NetworkSettings.IPAddress}}", name],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
        endpoint = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{endpoint}/moto-api/")
        yield endpoint, f"http://{address}:5000"
    finally:
        subprocess.run(
            [*engine, "rm", "--force", "--time", "0", name],
            check=False,
            capture_output=True,
            timeout=120,
        )


def _wait_until_up(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def claim_check_uris(event: dict[str, Any]) -> list[str]:
    """The claim-check URIs the event's records carry (in bodies that parse)."""
    uris = []
    for record in event.get("Records", []):
        try:
            body = json.loads(record["body"])
        except (KeyError, ValueError):
            continue
        if isinstance(body, dict) and isinstance(body.get("s3_uri"), str):
            uris.append(body["s3_uri"])
    return uris


@contextmanager
def _removed_afterwards(path: Path) -> Iterator[None]:
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def local_template(built_template: Path, endpoint_in_container: str) -> Path:
    """The built template plus AWS_ENDPOINT_URL for the batch function, written beside it."""
    template = yaml.safe_load(built_template.read_text(encoding="utf-8"))
    function = template["Resources"][FUNCTION]["Properties"]
    variables = function.setdefault("Environment", {}).setdefault("Variables", {})
    variables["AWS_ENDPOINT_URL"] = endpoint_in_container
    # One file per run: runs in parallel share the build folder, each with its own endpoint.
    path = built_template.with_name(f"template.sam-local-batch-{os.getpid()}.yaml")
    path.write_text(yaml.safe_dump(template, sort_keys=False), encoding="utf-8")
    return path


def invoke(
    event_path: Path,
    *,
    built_template: Path,
    out_dir: Path,
    claim_checks: list[Path],
    bucket: str,
    image: str,
    moto_dir: Path,
    sam_args: list[str],
) -> dict[str, Any]:
    """Run the whole sequence; returns the response and where the result objects went."""
    event = json.loads(event_path.read_text(encoding="utf-8"))
    uris = claim_check_uris(event)
    if len(claim_checks) not in (0, len(uris)):
        raise SystemExit(f"the event names {len(uris)} claim-check files, got {len(claim_checks)}")
    with moto_container(image, moto_dir) as (endpoint, endpoint_in_container):
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        s3.create_bucket(Bucket=bucket)
        for uri, local_file in zip(uris, claim_checks, strict=False):
            target_bucket, key = uri.removeprefix("s3://").split("/", 1)
            if target_bucket != bucket:
                s3.create_bucket(Bucket=target_bucket)
            s3.upload_file(str(local_file), target_bucket, key)
        template = local_template(built_template, endpoint_in_container)
        with tempfile.TemporaryDirectory() as scratch, _removed_afterwards(template):
            env_vars = Path(scratch) / "env.json"
            env_vars.write_text(json.dumps({FUNCTION: {"NAMEORIGIN_RESULTS_BUCKET": bucket}}))
            completed = subprocess.run(
                [
                    "bash",
                    str(ROOT / "sam-local" / "sam.sh"),
                    "local",
                    "invoke",
                    FUNCTION,
                    "--template",
                    str(template),
                    "--event",
                    str(event_path),
                    "--env-vars",
                    str(env_vars),
                    *sam_args,
                ],
                cwd=ROOT,
                env={**os.environ, **CREDENTIALS, "AWS_DEFAULT_REGION": REGION},
                stdout=subprocess.PIPE,
                text=True,
                timeout=900,
                check=False,
            )
        if completed.returncode != 0:
            raise SystemExit(f"sam local invoke failed ({completed.returncode})")
        response = json.loads(completed.stdout.strip().splitlines()[-1])
        out_dir.mkdir(parents=True, exist_ok=True)
        saved: list[str] = []
        # Everything under results/ (this moto server is fresh): messages without a batch_id get
        # a derived one.
        for item in s3.list_objects_v2(Bucket=bucket, Prefix="results/").get("Contents", []):
            target = out_dir / item["Key"].removeprefix("results/")
            s3.download_file(bucket, item["Key"], str(target))
            saved.append(str(target))
    return {"response": response, "results": saved}


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("event", type=Path, help="an SQS event (events/sqs/*.json)")
    parser.add_argument(
        "--template",
        type=Path,
        default=ROOT / ".aws-sam" / "build" / "template.yaml",
        help="the BUILT template (sam build output)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "sam-local" / "results")
    parser.add_argument(
        "--claim-check",
        type=Path,
        action="append",
        default=[],
        help="a names file to upload where the event's s3_uri points (once per URI, in order)",
    )
    parser.add_argument("--bucket", default=DEFAULT_BUCKET)
    parser.add_argument(
        "--image",
        default="public.ecr.aws/lambda/python:3.12-x86_64",
        help="the image the moto container runs (it needs /var/lang/bin/python3.12)",
    )
    parser.add_argument(
        "--moto-dir",
        type=Path,
        default=ROOT / "build" / "moto-py3.12",
        help="moto[s3] and flask installed (pip --target) for that Python",
    )
    parser.add_argument(
        "--sam-arg", action="append", default=[], help="one more argument for sam (repeatable)"
    )
    args = parser.parse_args(argv)
    result = invoke(
        args.event.resolve(),
        built_template=args.template.resolve(),
        out_dir=args.out.resolve(),
        claim_checks=[path.resolve() for path in args.claim_check],
        bucket=args.bucket,
        image=args.image,
        moto_dir=args.moto_dir.resolve(),
        sam_args=args.sam_arg,
    )
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
