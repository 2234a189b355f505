"""Cold start of a fresh process: import + model load + first answer, and peak RSS.

Run: ``.venv/bin/python benchmarks/cold_start.py`` (``--runs N``). Each variant runs N times in a
new interpreter and the medians are reported, side by side with a baseline measured in the same
run: the old service's way (import torch, build the tutorial's per-character RNN, load its
state dict, answer one name).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]

#: What template.yaml's Globals set for every function (tracing off, its default).
LAMBDA_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "nameorigin",
    "POWERTOOLS_METRICS_NAMESPACE": "NameOrigin",
    "NAMEORIGIN_INTRA_OP_THREADS": "1",
    "NAMEORIGIN_TRACING": "false",
}

#: Each snippet prints one JSON line: seconds from interpreter start to first answer, peak RSS.
_PRELUDE = "import time, resource, json; _t0 = time.perf_counter()\n"
_REPORT = (
    "print(json.dumps({'seconds': time.perf_counter() - _t0, "
    "'rss_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
)

VARIANTS = {
    "core": (
        "from nameorigin.config import Settings\n"
        "from nameorigin.core.model_store import ModelStore\n"
        "ModelStore(Settings.from_environ()).load().classify(['Jordan'], top_k=2)\n"
    ),
    "lambda_handler": (
        "import json as _j, pathlib\n"
        "from nameorigin.lambda_api.handler import lambda_handler\n"
        "event = _j.loads(pathlib.Path('events/api/get_prediction.json').read_text())\n"
        "from nameorigin.lambda_context import LocalLambdaContext\n"
        "response = lambda_handler(event, LocalLambdaContext('bench', aws_request_id='bench'))\n"
        "assert response['statusCode'] == 200, response\n"
    ),
    "torch_baseline": (
        "import torch\n"
        "from torch import nn\n"
        "class RNN(nn.Module):  # the PyTorch tutorial's per-character RNN, as the old service\n"
        "    def __init__(self, n_in=57, n_hidden=128, n_out=18):\n"
        "        super().__init__(); self.hidden_size = n_hidden\n"
        "        self.i2h = nn.Linear(n_in + n_hidden, n_hidden)\n"
        "        self.i2o = nn.Linear(n_in + n_hidden, n_out)\n"
        "        self.softmax = nn.LogSoftmax(dim=1)\n"
        "    def forward(self, x, h):\n"
        "        c = torch.cat((x, h), 1); return self.softmax(self.i2o(c)), self.i2h(c)\n"
        "model = RNN(); model.load_state_dict(torch.load(STATE, weights_only=True)); model.eval()\n"
        "with torch.no_grad():\n"
        "    h = torch.zeros(1, 128)\n"
        "    for ch in 'Jordan':\n"
        "        x = torch.zeros(1, 57); x[0, ord(ch) % 57] = 1; out, h = model(x, h)\n"
        "    out.topk(2)\n"
    ),
}


def run_once(variant: str, state_path: Path) -> dict[str, float]:
    code = _PRELUDE + f"STATE = {str(state_path)!r}\n" + VARIANTS[variant] + _REPORT
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
        env=os.environ | LAMBDA_ENVIRONMENT,
    )
    if completed.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{completed.stderr[-2000:]}")
    result: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    result["process_seconds"] = time.perf_counter() - started  # includes interpreter start-up
    return result


def make_torch_state(path: Path) -> None:
    """Weights for the baseline: random, since only loading and answering time matter here."""
    subprocess.run(
        [
            sys.executable,
            "-c",
            _PRELUDE
            + "STATE = None\n"
            + VARIANTS["torch_baseline"].split("model = RNN()")[0]
            + f"torch.save(RNN().state_dict(), {str(path)!r})\n",
        ],
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        state = Path(scratch) / "rnn.pt"
        make_torch_state(state)
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in args.variants}
        for _ in range(args.runs):  # interleaved so that machine noise hits every variant alike
            for name in args.variants:
                samples[name].append(run_once(name, state))
    report = {
        name: {
            "median_seconds": round(statistics.median(s["seconds"] for s in runs), 3),
            "median_process_seconds": round(
                statistics.median(s["process_seconds"] for s in runs), 3
            ),
            "median_rss_mib": round(statistics.median(s["rss_mib"] for s in runs), 1),
            "runs": len(runs),
        }
        for name, runs in samples.items()
    }
    if "torch_baseline" in report:
        base = report["torch_baseline"]
        for entry in report.values():
            entry["time_vs_torch_baseline"] = round(
                entry["median_seconds"] / base["median_seconds"], 3
            )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
