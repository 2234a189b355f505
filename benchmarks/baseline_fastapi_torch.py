"""The service nameorigin replaces, for side-by-side load tests: FastAPI + the PyTorch tutorial RNN.

A per-character ``nn.Module`` RNN as in the PyTorch "classifying names with a character-level RNN"
tutorial (one-hot letters, ``i2h``/``i2o`` linear layers, a Python loop over characters), with
seeded random weights: latency does not depend on what the weights learned. Same two routes and
bodies as the old service.

Needs ``fastapi`` and ``torch``, which are NOT runtime dependencies: install them into ``.venv``
for the benchmark only (``.venv/bin/pip install fastapi``; torch comes with the ``train`` extra).
Run: ``.venv/bin/python benchmarks/baseline_fastapi_torch.py --port 8090``.
"""

from __future__ import annotations

import argparse
import string

import torch
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
from torch import nn

ALL_LETTERS = string.ascii_letters + " .,;'"
N_LETTERS = len(ALL_LETTERS)
N_HIDDEN = 128
CATEGORIES = [
    "Arabic", "Chinese", "Czech", "Dutch", "English", "French", "German", "Greek", "Irish",
    "Italian", "Japanese", "Korean", "Polish", "Portuguese", "Russian", "Scottish", "Spanish",
    "Vietnamese",
]  # fmt: skip


class RNN(nn.Module):
    """The tutorial's RNN: hidden and output both from [input, hidden]."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(input_size + hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(
        self, letter: torch.Tensor, hidden: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        combined = torch.cat((letter, hidden), 1)
        return self.softmax(self.i2o(combined)), self.i2h(combined)

    def init_hidden(self) -> torch.Tensor:
        return torch.zeros(1, self.hidden_size)


def line_to_tensor(line: str) -> torch.Tensor:
    """One-hot ``[len, 1, n_letters]``, as in the tutorial."""
    tensor = torch.zeros(len(line), 1, N_LETTERS)
    for position, letter in enumerate(line):
        index = ALL_LETTERS.find(letter)
        if index >= 0:
            tensor[position][0][index] = 1
    return tensor


torch.manual_seed(0)
rnn = RNN(N_LETTERS, N_HIDDEN, len(CATEGORIES))
rnn.eval()


def evaluate(line_tensor: torch.Tensor) -> torch.Tensor:
    hidden = rnn.init_hidden()
    output = torch.zeros(1, len(CATEGORIES))
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    return output


class PredictionRequest(BaseModel):
    name: str
    n_predictions: int = 3


app = FastAPI()


@app.get("/check_service")
def check_service() -> dict[str, str]:
    return {"Message": "Hello world from service"}


@app.post("/get_prediction")
def get_prediction(request: PredictionRequest) -> dict[str, list[float] | list[str]]:
    with torch.no_grad():
        output = evaluate(line_to_tensor(request.name))
        values, indices = output.topk(request.n_predictions, 1, True)
    return {
        "predictions": [CATEGORIES[int(i)] for i in indices[0]],
        "probabilities": [float(v) for v in values[0]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
