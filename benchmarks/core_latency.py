"""In-process speed of the core: single-name latency and large-batch throughput.

Run: ``.venv/bin/python benchmarks/core_latency.py`` (add ``--help`` for options). The machine is
noisy, so every figure is a median over repeats, and bucketing is compared with its own baseline
(one bucket = pad everything to the longest name) in the same run.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

import numpy as np
from _local_aws import data_set_names

from nameorigin.config import default_model_dir
from nameorigin.core.classifier import Classifier


def sample_names(count: int, data_dir: Path | None, seed: int = 0) -> list[str]:
    """Real surnames when the data set is at hand (realistic length mix), else random ones."""
    rng = random.Random(seed)
    if data_dir is not None and data_dir.is_dir():
        pool = data_set_names(data_dir)
        return [rng.choice(pool) for _ in range(count)]
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(2, 14))) for _ in range(count)]


def single_name_latency(classifier: Classifier, names: list[str], repeats: int) -> dict[str, float]:
    """Microseconds for one ``classify([name], top_k=3)``: normalize + encode + run + top-k."""
    for name in names[:200]:
        classifier.classify([name], top_k=3)
    timings = []
    for index in range(repeats):
        name = names[index % len(names)]
        start = time.perf_counter_ns()
        classifier.classify([name], top_k=3)
        timings.append((time.perf_counter_ns() - start) / 1000)
    quantiles = statistics.quantiles(timings, n=100)
    return {"p50_us": statistics.median(timings), "p99_us": quantiles[98]}


def batch_throughput(classifier: Classifier, names: list[str], repeats: int) -> float:
    """Median names/s for classifying ``names`` in one call."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        classifier.classify(names, top_k=3)
        rates.append(len(names) / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", type=Path, default=default_model_dir())
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data/names"))
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--single-repeats", type=int, default=5_000)
    args = parser.parse_args()

    names = sample_names(args.batch, args.data_dir)
    report: dict[str, object] = {
        "batch_names": len(names),
        "mean_name_length": float(np.mean([len(name) for name in names])),
    }
    for threads in (1, 2):
        bucketed = Classifier.load(args.model_dir, intra_op_threads=threads, bucket_size=256)
        report[f"threads_{threads}"] = {
            "single_name": single_name_latency(bucketed, names, args.single_repeats),
            "names_per_s": {
                f"bucket_{size}": batch_throughput(
                    Classifier.load(args.model_dir, intra_op_threads=threads, bucket_size=size),
                    names,
                    args.repeats,
                )
                for size in (64, 256, 1024, 4096)
            }
            | {
                "no_bucketing_pad_to_longest_4096": batch_throughput(
                    _unsorted(args.model_dir, threads), names, args.repeats
                )
            },
        }
    print(json.dumps(report, indent=2))


class _UnsortedClassifier(Classifier):
    """Baseline: fixed chunks of 4096 in input order, each padded to its longest name."""

    def log_probabilities(self, normalized):  # type: ignore[no-untyped-def]
        result = np.empty((len(normalized), len(self.labels)), dtype=np.float32)
        for start in range(0, len(normalized), 4096):
            chunk = normalized[start : start + 4096]
            tokens, lengths = self.encoder.encode(chunk)
            (scores,) = self.session.run(
                ["log_probabilities"], {"tokens": tokens, "lengths": lengths}
            )
            result[start : start + len(chunk)] = scores
        return result


def _unsorted(model_dir: Path, threads: int) -> Classifier:
    loaded = Classifier.load(model_dir, intra_op_threads=threads)
    return _UnsortedClassifier(loaded.session, loaded.manifest)


if __name__ == "__main__":
    main()
