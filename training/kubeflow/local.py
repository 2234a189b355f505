"""``make pipeline-local``: the Kubeflow pipeline on this machine, with kfp's local runner.

Every component runs as a subprocess of this venv (``SubprocessRunner(use_venv=False)``), so no
cluster, image or network is needed. By default the incumbent is ``artifacts/`` (what ``make
train`` compares with, so the verdict is the same) and publishing writes to a local folder in
place of the object store; the repository's ``artifacts/`` is never written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

from kfp import local

from training.__main__ import DATA_DIR_VARIABLE, REPOSITORY_ROOT
from training.kubeflow.graph import training_pipeline

DEFAULT_ROOT = REPOSITORY_ROOT / ".cache" / "pipeline"
EXIT_FAILED = 1
EXIT_UNEXPECTED_VERDICT = 4


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The pipeline's parameters, with local defaults."""
    parser = argparse.ArgumentParser(prog="python -m training.kubeflow.local", description=__doc__)
    parser.add_argument("--data-dir", default=os.environ.get(DATA_DIR_VARIABLE))
    parser.add_argument("--incumbent", default=str(REPOSITORY_ROOT / "artifacts"))
    parser.add_argument("--publish-uri", default=str(DEFAULT_ROOT / "store"))
    parser.add_argument("--pipeline-root", type=Path, default=DEFAULT_ROOT / "runs")
    parser.add_argument(
        "--config", default="{}", help='TrainingConfig overrides as JSON, e.g. {"epochs": 2}'
    )
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--no-peer", action="store_true", help="do not score ethnicseer")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--expect",
        choices=["promoted", "refused"],
        help="exit with status 4 if the verdict is not this one (CI)",
    )
    return parser.parse_args(argv)


def run(arguments: argparse.Namespace) -> tuple[bool, str]:
    """Run the whole pipeline locally; the gate's verdict."""
    # The components name the cluster image; here they run in this venv, which has its packages.
    warnings.filterwarnings("ignore", message=".*non-Python base image.*", category=RuntimeWarning)
    arguments.pipeline_root.mkdir(parents=True, exist_ok=True)
    local.init(
        runner=local.SubprocessRunner(use_venv=False),
        pipeline_root=str(arguments.pipeline_root),
    )
    result = training_pipeline(
        data_uri=str(Path(arguments.data_dir).resolve()),
        publish_uri=arguments.publish_uri,
        incumbent_uri=arguments.incumbent,
        config_json=arguments.config,
        force=arguments.force,
        peer=not arguments.no_peer,
        threads=arguments.threads,
    )
    return bool(result.outputs["promote"]), str(result.outputs["reason"])


def main(argv: list[str] | None = None) -> int:
    """Run, print the verdict as one JSON line; non-zero only on failure or unexpected verdict."""
    arguments = parse_arguments(argv)
    if arguments.data_dir is None:
        print(f"error: no data folder: pass --data-dir or set {DATA_DIR_VARIABLE}", file=sys.stderr)
        return EXIT_FAILED
    # Components import training/ from this checkout (the image has it on PYTHONPATH too).
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPOSITORY_ROOT), os.environ.get("PYTHONPATH")])
    )
    promote, reason = run(arguments)
    verdict = "promoted" if promote else "refused"
    print(json.dumps({"verdict": verdict, "reason": reason, "publish_uri": arguments.publish_uri}))
    if arguments.expect and arguments.expect != verdict:
        print(f"error: expected {arguments.expect}, got {verdict}", file=sys.stderr)
        return EXIT_UNEXPECTED_VERDICT
    return 0


if __name__ == "__main__":
    sys.exit(main())
