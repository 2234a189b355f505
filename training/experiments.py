"""``python -m training.experiments``: the levers of the model, each measured in one table.

Every variant is trained on the same split with the same code as ``make train`` (only the
config differs), calibrated the same way, exported, and scored on the same held-out sets; its
serving cost is measured on its exported graph. Results go to ``docs/experiments.json``, from
which ``python -m training.report`` renders the table in ``docs/training.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nameorigin.core.classifier import Classifier
from nameorigin.core.normalization import DEFAULT_RULE
from training.evaluation import MODEL
from training.pipeline import PipelineOptions, build_candidate, load_corpus
from training.sources import read_sources
from training.train import TUNED_PRIOR, TrainingConfig

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "experiments.json"
#: Each row trains one init (the committed pipeline trains three and keeps validation's pick):
#: a row measures its lever, and the init seed rows show the spread validation chooses from.
FINAL = replace(TrainingConfig(), init_candidates=1)
GRU_ONLY = {"ngram_dim": 0}
#: The n-gram table every row before the committed model had (131,072 buckets).
LARGE_TABLE = {"ngram_buckets": 1 << 17}
#: How the rows before the naive Bayes head were trained: balanced accuracy alone selected (and
#: picked τ), no head, the larger n-gram table.
BALANCED_ACCURACY_SELECTS = {
    "selection_figures": "balanced_accuracy",
    "prior_adjustment": TUNED_PRIOR,
    "naive_bayes_head": False,
    **LARGE_TABLE,
}
VARIANTS: dict[str, dict[str, Any]] = {
    "tutorial only, BiGRU, plain loss": {
        "extra_sources": False, "class_weight_power": 0.0, "label_smoothing": 0.0, **GRU_ONLY,
        **BALANCED_ACCURACY_SELECTS,
    },
    "+ Faker/Mimesis names, BiGRU, plain loss": {
        "class_weight_power": 0.0, "label_smoothing": 0.0, **GRU_ONLY, **BALANCED_ACCURACY_SELECTS,
    },
    "+ class-weighted loss (count^-0.5), label smoothing": {
        **GRU_ONLY, **BALANCED_ACCURACY_SELECTS,
    },
    "+ n-gram bag, fully balanced loss (count^-1)": {
        "class_weight_power": 1.0, **BALANCED_ACCURACY_SELECTS,
    },
    "+ n-gram bag, GRU hidden 128 (costlier)": {"hidden_size": 128, **BALANCED_ACCURACY_SELECTS},
    "+ n-gram bag beside the GRU (balanced accuracy alone selects: the previous model)": (
        BALANCED_ACCURACY_SELECTS
    ),
    "+ naive Bayes head, every reported figure selects, GRU hidden 64 (cheaper)": {
        "hidden_size": 64,
    },
    # The committed config with other seeds, scored on other held-out names (split_seed -1: the
    # split follows the seed): how far a figure moves across splits and inits together.
    "committed config, seed 1 (its own split and init)": {"seed": 1, "split_seed": -1},
    "committed config, seed 2 (its own split and init)": {"seed": 2, "split_seed": -1},
    # ... and each init alone on the committed split, on the same names: seeds 0, 1 and 2 are
    # the three inits `make train` chooses from on validation (the committed model's row).
    "committed config, init seed 0 (the committed split)": {"seed": 0},
    "committed config, init seed 1 (the committed split)": {"seed": 1},
    "committed config, init seed 2 (the committed split)": {"seed": 2},
}  # fmt: skip
#: The last row is the committed artifact itself (``make train`` with the defaults), not retrained.
COMMITTED_ROW = (
    "+ naive Bayes head, every figure selects, 65,536 buckets, "
    "best of 3 inits on validation (committed model)"
)
SINGLE_NAME_ROUNDS = 300
BATCH_NAMES = 10_000


def serving_cost(model_dir: Path, names: list[str]) -> dict[str, float]:
    """Single-name p50 (µs) and 10k-name batch names/s of an artifact, one thread."""
    classifier = Classifier.load(model_dir, intra_op_threads=1)
    for name in names[:50]:
        classifier.log_probabilities([name])
    timings = []
    for name in (names * (SINGLE_NAME_ROUNDS // len(names) + 1))[:SINGLE_NAME_ROUNDS]:
        started = time.perf_counter()
        classifier.log_probabilities([name])
        timings.append(time.perf_counter() - started)
    batch = (names * (BATCH_NAMES // len(names) + 1))[:BATCH_NAMES]
    started = time.perf_counter()
    classifier.log_probabilities(batch)
    elapsed = time.perf_counter() - started
    return {
        "single_name_p50_us": float(np.median(timings) * 1e6),
        "batch_names_per_second": BATCH_NAMES / elapsed,
        "model_bytes": float((model_dir / "model.onnx").stat().st_size),
    }


def run_variant(name: str, overrides: dict[str, Any], data_dir: Path) -> dict[str, Any]:
    """Train one variant in a scratch folder and return its scores and costs."""
    config = replace(FINAL, **overrides)
    dataset, corpus = load_corpus(data_dir, config, read_sources)
    if not config.extra_sources:
        # Scored on the same cross-source names as the others (they were held out anyway).
        _, with_extra = load_corpus(data_dir, FINAL, read_sources)
        corpus = replace(corpus, cross_source_test=with_extra.cross_source_test)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        options = PipelineOptions(
            data_dir=data_dir,
            artifacts_dir=folder / "unused",
            work_dir=folder,
            config=config,
            progress=False,
            peer=False,
        )
        started = time.monotonic()
        metrics = build_candidate(dataset, corpus, options, folder, DEFAULT_RULE, baselines={})
        seconds = time.monotonic() - started
        cost = serving_cost(folder, list(corpus.tutorial_test.names))
    evaluations = metrics["evaluations"]
    return {
        "variant": name,
        "config": overrides,
        "train_pairs": len(corpus.train),
        "seconds": round(seconds, 1),
        "cross_source": _pick(evaluations["cross_source"]["scores"]["strict"][MODEL]),
        "tutorial_any_label": _pick(evaluations["tutorial_test"]["scores"]["any_label"][MODEL]),
        "cost": cost,
    }


def _pick(figures: dict[str, Any]) -> dict[str, Any]:
    keys = ("balanced_accuracy", "macro_f1", "top1", "top3")
    return {key: figures[key] for key in keys} | {"interval95": figures.get("interval95", {})}


def committed_row(artifacts_dir: Path) -> dict[str, Any]:
    """The committed model's row, read from its metrics.json and measured on its graph."""
    metrics = json.loads((artifacts_dir / "metrics.json").read_text("utf-8"))
    evaluations = metrics["evaluations"]
    sample = ["kuznetsova", "hoekstra", "nguyen", "o'brien", "papadopoulos", "yamamoto", "jordan"]
    return {
        "variant": COMMITTED_ROW,
        "config": {},
        "train_pairs": metrics["split"]["train"],
        "seconds": metrics["training"]["seconds"],
        "cross_source": _pick(evaluations["cross_source"]["scores"]["strict"][MODEL]),
        "tutorial_any_label": _pick(evaluations["tutorial_test"]["scores"]["any_label"][MODEL]),
        "cost": serving_cost(artifacts_dir, sample),
    }


def main(
    data_dir: Path, artifacts_dir: Path, only: Sequence[str] = (), *, committed_only: bool = False
) -> None:
    """Run the variants (several minutes each on two cores) and write the results file.

    ``only`` re-runs just the named variants and keeps the other rows of the results file (each
    row's config is explicit, so a kept row still describes what its config trains);
    ``committed_only`` re-runs none and only re-reads the committed model's row (after a
    ``make train`` that promoted a model).
    """
    unknown = sorted(set(only) - set(VARIANTS))
    if unknown:
        raise SystemExit(f"error: unknown variants {unknown}; known: {sorted(VARIANTS)}")
    torch.set_num_threads(2)
    keep = bool(only) or committed_only
    kept = _previous_rows() if keep else {}
    rows: list[dict[str, Any]] = []
    for name, overrides in VARIANTS.items():
        kept_row = kept.get(name) if keep and name not in only else None
        rows.append(kept_row or run_variant(name, overrides, data_dir))
        # Written after every row (recorded rows still to come kept after it): a row that fails
        # later costs only itself.
        done = {row["variant"] for row in rows}
        _write([*rows, *(row for name, row in kept.items() if name not in done)])
    _write([*rows, committed_row(artifacts_dir)])


def _write(rows: list[dict[str, Any]]) -> None:
    RESULTS.write_text(json.dumps({"variants": rows}, indent=2) + "\n", "utf-8")


def _previous_rows() -> dict[str, dict[str, Any]]:
    if not RESULTS.exists():
        return {}
    rows = json.loads(RESULTS.read_text("utf-8"))["variants"]
    return {row["variant"]: row for row in rows}


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    """``DATA_DIR [--only VARIANT ...]``."""
    parser = argparse.ArgumentParser(prog="python -m training.experiments", description=__doc__)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--artifacts-dir", type=Path, default=RESULTS.parents[1] / "artifacts")
    parser.add_argument("--only", nargs="+", default=[], metavar="VARIANT")
    parser.add_argument(
        "--committed-only", action="store_true", help="re-read only the committed model's row"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_arguments(sys.argv[1:])
    main(
        arguments.data_dir,
        arguments.artifacts_dir,
        arguments.only,
        committed_only=arguments.committed_only,
    )
