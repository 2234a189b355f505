"""Command line: ``python -m training [--force] [--epochs N] …`` or ``… training evaluate``.

Every expected failure (bad data, failed export gate, unusable artifact, refused promotion) ends
with one ``error:`` line on stderr and a non-zero exit status, never a traceback or a half-written
artifact.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import fields, replace
from pathlib import Path

from nameorigin.core.manifest import ArtifactError
from training.data import DataError
from training.export import ExportError
from training.pipeline import (
    METRICS_FILE,
    PipelineOptions,
    PromotionRefusedError,
    evaluate_committed,
    run_pipeline,
)
from training.report import write_report
from training.train import TrainingConfig

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR_VARIABLE = "NAMEORIGIN_DATA_DIR"
EXIT_FAILED = 1
EXIT_NOT_PROMOTED = 3


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """Paths, the force flag, and an override for every :class:`TrainingConfig` field."""
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=os.environ.get(DATA_DIR_VARIABLE),
        help=f"folder of <Label>.txt files (default: ${DATA_DIR_VARIABLE})",
    )
    parser.add_argument("--artifacts-dir", type=Path, default=REPOSITORY_ROOT / "artifacts")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=REPOSITORY_ROOT / ".cache" / "training",
        help="where candidates are built (same file system as the artifacts folder)",
    )
    parser.add_argument("--force", action="store_true", help="promote even if not as good")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--no-peer", action="store_true", help="do not score ethnicseer")
    defaults = TrainingConfig()
    for field in fields(TrainingConfig):
        value = getattr(defaults, field.name)
        flag = f"--{field.name.replace('_', '-')}"
        if isinstance(value, bool):  # type=bool would read "False" as True
            parser.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=value, dest=field.name
            )
        else:
            parser.add_argument(flag, type=type(value), default=value, dest=field.name)
    return parser.parse_args(argv)


def _write_report_if_committed(artifacts_dir: Path) -> None:
    """docs/training.md describes the committed artifact only, not a scratch folder's."""
    if artifacts_dir.resolve() == (REPOSITORY_ROOT / "artifacts").resolve():
        write_report(artifacts_dir / METRICS_FILE)


def evaluate_main(argv: list[str]) -> int:
    """``python -m training evaluate``: re-score the committed artifact, rewrite the reports."""
    arguments = parse_arguments(argv)
    if arguments.data_dir is None:
        print(f"error: no data folder: pass --data-dir or set {DATA_DIR_VARIABLE}", file=sys.stderr)
        return EXIT_FAILED
    try:
        evaluate_committed(arguments.data_dir, arguments.artifacts_dir, peer=not arguments.no_peer)
        _write_report_if_committed(arguments.artifacts_dir)
    except (DataError, ArtifactError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the pipeline; map expected failures to one line and an exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["evaluate"]:
        return evaluate_main(argv[1:])
    arguments = parse_arguments(argv)
    if arguments.data_dir is None:
        print(f"error: no data folder: pass --data-dir or set {DATA_DIR_VARIABLE}", file=sys.stderr)
        return EXIT_FAILED
    config = replace(
        TrainingConfig(), **{f.name: getattr(arguments, f.name) for f in fields(TrainingConfig)}
    )
    options = PipelineOptions(
        data_dir=arguments.data_dir,
        artifacts_dir=arguments.artifacts_dir,
        work_dir=arguments.work_dir,
        config=config,
        force=arguments.force,
        threads=arguments.threads,
        progress=not arguments.no_progress,
        peer=not arguments.no_peer,
    )
    try:
        run_pipeline(options)
        _write_report_if_committed(options.artifacts_dir)
    except PromotionRefusedError as refused:
        print(f"not promoted: {refused}", file=sys.stderr)
        return EXIT_NOT_PROMOTED
    except (DataError, ExportError, ArtifactError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
