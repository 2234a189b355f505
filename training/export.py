"""Torch → ONNX, then prove the file computes what torch computed before anyone may ship it.

Gates (each raises :class:`ExportError`, and the caller writes nothing on failure): ``onnx.checker``
clean, exactly the served interface with dynamic batch and time axes, a single self-contained
file of at most 5 MB (the repository's limit for a tracked file), onnxruntime matching torch on
every test name (max |Δ log-prob| ≤ 1e-4, identical argmax), and a name's output not depending on
how much padding its batch has.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort
import torch
from torch import nn

from nameorigin.core.classifier import create_session
from nameorigin.core.manifest import LENGTHS_INPUT, LOG_PROBABILITIES_OUTPUT, TOKENS_INPUT
from training.model import NameClassifier, NameClassifierEnsemble
from training.onnx_graph import OPSET, build_onnx_model, round_tables_as_stored

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]

PARITY_TOLERANCE = 1e-4
#: The largest model.onnx that may be committed: the repository's limit for a tracked file
#: (5 MB). Every function zip, every image and every model commit carries it, and onnxruntime
#: reads it whole at cold start.
MAX_MODEL_BYTES = 5_000_000
PADDING_TOLERANCE = 1e-5
EXTRA_PADDING = 7


class ExportError(RuntimeError):
    """The exported graph is not a faithful, servable copy of the trained model."""


@dataclass(frozen=True)
class ParityReport:
    """How closely onnxruntime reproduced torch, for metrics.json."""

    examples: int
    max_abs_difference: float
    max_padding_difference: float


def export_onnx(model: NameClassifier | NameClassifierEnsemble, path: Path) -> None:
    """Write the trained model as the lean graph of :mod:`training.onnx_graph` (one file).

    ONNX's own GRU operator replaces the ~70 traced nodes per member, so a single-name request is
    not dominated by onnxruntime's per-node overhead; the parity gate proves the translation.
    """
    model.eval()
    round_tables_as_stored(model)
    onnx.save(build_onnx_model(model), str(path))


def trace_onnx(model: nn.Module, path: Path, opset: int = OPSET) -> None:
    """Trace any ``(tokens, lengths) -> log_probabilities`` module with the TorchScript exporter.

    The generic fallback (and the reference the lean graph was checked against); the gates below
    apply to its output just the same.
    """
    model.eval()
    tokens = torch.tensor([[1, 2, 3, 4], [5, 6, 0, 0]], dtype=torch.int64)
    lengths = torch.tensor([4, 2], dtype=torch.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            model,
            (tokens, lengths),
            str(path),
            input_names=[TOKENS_INPUT, LENGTHS_INPUT],
            output_names=[LOG_PROBABILITIES_OUTPUT],
            dynamic_axes={
                TOKENS_INPUT: {0: "batch", 1: "time"},
                LENGTHS_INPUT: {0: "batch"},
                LOG_PROBABILITIES_OUTPUT: {0: "batch"},
            },
            opset_version=opset,
            dynamo=False,
        )


def check_graph(
    path: Path, num_labels: int, opset: int = OPSET, max_bytes: int = MAX_MODEL_BYTES
) -> None:
    """``onnx.checker`` plus the served interface: names, dtypes, dynamic axes, no external data,
    and the file's size."""
    size = path.stat().st_size
    if size > max_bytes:
        raise ExportError(f"{path} is {size:,} bytes, over the {max_bytes:,} bytes that may ship")
    try:
        onnx.checker.check_model(str(path), full_check=True)
    except onnx.checker.ValidationError as error:
        raise ExportError(f"onnx.checker rejects {path}: {error}") from error
    model = onnx.load(str(path), load_external_data=False)
    if any(onnx.external_data_helper.uses_external_data(t) for t in model.graph.initializer):
        raise ExportError(f"{path} keeps weights in external data; it must be one file")
    opsets = {entry.domain: entry.version for entry in model.opset_import}
    if opsets.get("", opsets.get("ai.onnx")) != opset:
        raise ExportError(f"{path} has opset {opsets}, expected {opset}")
    int64, float32 = onnx.TensorProto.INT64, onnx.TensorProto.FLOAT
    expected = {
        TOKENS_INPUT: (int64, ["batch", "time"]),
        LENGTHS_INPUT: (int64, ["batch"]),
    }
    actual = {value.name: value for value in model.graph.input}
    if sorted(actual) != sorted(expected):
        raise ExportError(f"graph inputs are {sorted(actual)}, expected {sorted(expected)}")
    outputs = [value.name for value in model.graph.output]
    if outputs != [LOG_PROBABILITIES_OUTPUT]:
        raise ExportError(f"graph outputs are {outputs}, expected {[LOG_PROBABILITIES_OUTPUT]}")
    expected[LOG_PROBABILITIES_OUTPUT] = (float32, ["batch", str(num_labels)])
    for value in [*model.graph.input, *model.graph.output]:
        dtype, dims = expected[value.name]
        tensor_type = value.type.tensor_type
        shape = [d.dim_param or str(d.dim_value) for d in tensor_type.shape.dim]
        if tensor_type.elem_type != dtype or shape != dims:
            raise ExportError(f"{value.name} is {tensor_type.elem_type}{shape}, expected {dims}")


def run_onnx(session: ort.InferenceSession, tokens: IntArray, lengths: IntArray) -> FloatArray:
    """The graph's log-probabilities for one padded batch."""
    feeds = {TOKENS_INPUT: tokens, LENGTHS_INPUT: lengths}
    (scores,) = session.run([LOG_PROBABILITIES_OUTPUT], feeds)
    result: FloatArray = np.asarray(scores, dtype=np.float32)
    return result


def run_bucketed(session: ort.InferenceSession, tokens: IntArray, lengths: IntArray) -> FloatArray:
    """Log-probabilities with every name padded only to its own length (serving's best case)."""
    result = np.empty((len(lengths), int(session.get_outputs()[0].shape[1])), dtype=np.float32)
    for length in np.unique(lengths):
        rows = np.flatnonzero(lengths == length)
        result[rows] = run_onnx(session, tokens[rows, : int(length)], lengths[rows])
    return result


def check_parity(model: nn.Module, path: Path, tokens: IntArray, lengths: IntArray) -> ParityReport:
    """onnxruntime vs torch on the given (test) names, and padding invariance of the graph."""
    model.eval()
    with torch.no_grad():
        expected = model(torch.from_numpy(tokens), torch.from_numpy(lengths)).numpy()
    session = create_session(path, intra_op_threads=2)
    actual = run_onnx(session, tokens, lengths)
    difference = float(np.abs(actual - expected).max())
    if not difference <= PARITY_TOLERANCE:
        raise ExportError(
            f"onnxruntime differs from torch by {difference:.2e} > {PARITY_TOLERANCE}"
        )
    mismatched = int((actual.argmax(axis=1) != expected.argmax(axis=1)).sum())
    if mismatched:
        raise ExportError(f"onnxruntime and torch disagree on the top label of {mismatched} names")
    padded = np.pad(tokens, ((0, 0), (0, EXTRA_PADDING)))
    padding_difference = max(
        float(np.abs(run_onnx(session, padded, lengths) - actual).max()),
        float(np.abs(run_bucketed(session, tokens, lengths) - actual).max()),
    )
    if not padding_difference <= PADDING_TOLERANCE:
        raise ExportError(
            f"a name's output depends on its batch's padding (max Δ {padding_difference:.2e})"
        )
    return ParityReport(len(lengths), difference, padding_difference)
