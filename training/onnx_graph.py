"""Write a trained NameClassifier as a lean ONNX graph built directly from its weights.

Why not ``torch.onnx.export``: the traced graph of the masked two-direction GRU has ~100 nodes
(shape arithmetic, gathers, the in-length reversal), and onnxruntime's per-node overhead then
dominates a single-name request. ONNX's own GRU operator already does what the torch model does
by hand: ``sequence_lens`` stops each name at its own length and ``direction="reverse"`` reads it
backwards from its own last character. So the graph is embedding → one GRU stack per direction →
final states → linear head → temperature → log-softmax: a dozen nodes. The parity gate compares it
with the torch model on the whole test split, so any mismatch in this translation fails loudly.
"""

from __future__ import annotations

from typing import TypeGuard

import numpy as np
import numpy.typing as npt
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from nameorigin.core.manifest import LENGTHS_INPUT, LOG_PROBABILITIES_OUTPUT, TOKENS_INPUT
from training.model import (
    NGRAM_HASH_MULTIPLIER,
    CharacterNgramBag,
    NameClassifier,
    NameClassifierEnsemble,
)

OPSET = 17


def _gru_gates_to_onnx(matrix: npt.NDArray[np.float32], hidden: int) -> npt.NDArray[np.float32]:
    """torch stacks GRU gates as (reset, update, new); ONNX as (update, reset, hidden)."""
    reset, update, new = matrix[:hidden], matrix[hidden : 2 * hidden], matrix[2 * hidden :]
    return np.concatenate([update, reset, new])


def _array(tensor: torch.Tensor) -> npt.NDArray[np.float32]:
    return tensor.detach().cpu().numpy().astype(np.float32)


#: The smallest row scale stored: float16's smallest normal number, so no scale underflows.
MIN_ROW_SCALE = float(np.finfo(np.float16).tiny)


def quantize_rows(
    table: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float16]]:
    """Symmetric int8 per row with a float16 scale per row: how the graph stores n-gram tables.

    A quarter of float32 (the table is nearly all of the artifact), and per row because frequent
    and rare n-grams' vectors differ in size by orders of magnitude. Idempotent on its own output
    (:func:`dequantize_rows`), which keeps the parity gate exact.
    """
    largest = np.abs(table).max(axis=1, keepdims=True)
    scale = np.maximum(largest / 127.0, MIN_ROW_SCALE).astype(np.float16)
    quantized = np.clip(np.rint(table / scale.astype(np.float32)), -127, 127).astype(np.int8)
    return quantized, scale


def dequantize_rows(
    quantized: npt.NDArray[np.int8], scale: npt.NDArray[np.float16]
) -> npt.NDArray[np.float32]:
    """The float32 values the graph computes from a quantized table (Cast, Cast, Mul)."""
    result: npt.NDArray[np.float32] = quantized.astype(np.float32) * scale.astype(np.float32)
    return result


def _gru_stack(
    rnn: torch.nn.GRU,
    direction: str,
    source: str,
    sequence_lens: str,
    prefix: str,
    nodes: list[onnx.NodeProto],
    initializers: list[onnx.TensorProto],
) -> str:
    """Append one single-direction GRU stack; returns the name of its final state ``[batch, H]``."""
    hidden = rnn.hidden_size
    layer_input = source
    final_state = ""
    for layer in range(rnn.num_layers):
        weights = {
            "W": _gru_gates_to_onnx(_array(getattr(rnn, f"weight_ih_l{layer}")), hidden)[None],
            "R": _gru_gates_to_onnx(_array(getattr(rnn, f"weight_hh_l{layer}")), hidden)[None],
            "B": np.concatenate(
                [
                    _gru_gates_to_onnx(_array(getattr(rnn, f"bias_ih_l{layer}")), hidden),
                    _gru_gates_to_onnx(_array(getattr(rnn, f"bias_hh_l{layer}")), hidden),
                ]
            )[None],
        }
        names = {key: f"{prefix}_l{layer}_{key}" for key in weights}
        initializers += [numpy_helper.from_array(weights[key], names[key]) for key in weights]
        last_layer = layer == rnn.num_layers - 1
        outputs = "" if last_layer else f"{prefix}_l{layer}_Y"  # the top layer's Y is never read
        final = f"{prefix}_l{layer}_Y_h"
        nodes.append(
            helper.make_node(
                "GRU",
                [layer_input, names["W"], names["R"], names["B"], sequence_lens],
                [outputs, final],
                hidden_size=hidden,
                direction=direction,
                linear_before_reset=1,
                name=f"{prefix}_gru_l{layer}",
            )
        )
        if not last_layer:
            # Y is [time, directions=1, batch, H]; the next layer reads [time, batch, H].
            layer_input = f"{prefix}_l{layer}_out"
            nodes.append(helper.make_node("Squeeze", [outputs, "axis_1"], [layer_input]))
        final_state = final
    squeezed = f"{prefix}_state"
    nodes.append(helper.make_node("Squeeze", [final_state, "axis_0"], [squeezed]))
    return squeezed


def _window_sum(
    table: str, row_scale: str, ids: str, out: str, nodes: list[onnx.NodeProto]
) -> None:
    """``out[b] = Σ over windows of row_scale[id] · table[id]`` for int8 rows, as one MatMul.

    ``ids`` is a prefix: ``{ids}_flat`` holds the window ids as ``[batch, windows]`` and
    ``{ids}_row`` as ``[batch, 1, windows]`` (see :func:`_ngram_bag`), so the gathers come out in
    MatMul's shapes, ``[batch, 1, windows] @ [batch, windows, columns]``. On a 1,000-name batch
    that is about three times faster than a broadcast Mul and a ReduceSum over the dequantized
    tensor, with as many nodes.
    """
    nodes += [
        helper.make_node("Gather", [table, f"{ids}_flat"], [f"{out}_rows_int8"]),
        helper.make_node("Cast", [f"{out}_rows_int8"], [f"{out}_rows"], to=TensorProto.FLOAT),
        helper.make_node("Gather", [row_scale, f"{ids}_row"], [f"{out}_scales_half"]),
        helper.make_node("Cast", [f"{out}_scales_half"], [f"{out}_scales"], to=TensorProto.FLOAT),
        helper.make_node("MatMul", [f"{out}_scales", f"{out}_rows"], [f"{out}_3d"]),
        helper.make_node("Squeeze", [f"{out}_3d", "axis_1"], [out]),
    ]


def _ngram_bag(
    bag: CharacterNgramBag,
    prefix: str,
    nodes: list[onnx.NodeProto],
    initializers: list[onnx.TensorProto],
) -> str:
    """Append the n-gram bag: one Conv computes every window key, then hash, mask, sum, mean.

    Mirrors :meth:`CharacterNgramBag.bucket_ids` step by step; returns ``[batch, dim]``.
    """
    size, vocabulary = bag.max_n, bag.vocabulary_size
    kernel = np.zeros((size, 1, size), dtype=np.float32)
    for n in range(1, size + 1):
        kernel[n - 1, 0, :n] = [float(vocabulary**k) for k in range(n)]
    sizes = np.arange(1, size + 1, dtype=np.int64)
    constants = {
        "pads": np.array([0, 1, 0, size], dtype=np.int64),
        "kernel": kernel,
        "salt": (sizes * vocabulary**size).reshape(1, size, 1),
        "multiplier": np.array(NGRAM_HASH_MULTIPLIER, dtype=np.int64),
        "buckets": np.array(bag.buckets, dtype=np.int64),
        "limit_offset": (3 - sizes).reshape(1, size, 1),
        "zero": np.array(0, dtype=np.int64),
        "one": np.array(1, dtype=np.int64),
        "two": np.array(2, dtype=np.int64),
        "window_scale": np.array(float(size), dtype=np.float32),
        "window_offset": np.array(float(size * (5 - size) // 2), dtype=np.float32),
    }
    table, row_scale = quantize_rows(_array(bag.table.weight))
    constants["table"], constants["row_scale"] = table, row_scale.reshape(-1)
    names = {key: f"{prefix}_{key}" for key in constants}
    initializers += [numpy_helper.from_array(value, names[key]) for key, value in constants.items()]
    p = prefix
    nodes += [
        helper.make_node("Cast", [TOKENS_INPUT], [f"{p}_tokens_f"], to=TensorProto.FLOAT),
        helper.make_node("Pad", [f"{p}_tokens_f", names["pads"]], [f"{p}_padded"]),
        helper.make_node("Unsqueeze", [f"{p}_padded", "axis_1"], [f"{p}_channel"]),
        helper.make_node("Conv", [f"{p}_channel", names["kernel"]], [f"{p}_keys_f"]),
        helper.make_node("Cast", [f"{p}_keys_f"], [f"{p}_keys"], to=TensorProto.INT64),
        helper.make_node("Add", [f"{p}_keys", names["salt"]], [f"{p}_salted"]),
        helper.make_node("Mul", [f"{p}_salted", names["multiplier"]], [f"{p}_scrambled"]),
        helper.make_node("Mod", [f"{p}_scrambled", names["buckets"]], [f"{p}_hashed"]),
        # Window starts 0 … width+1; a window is valid while start < length + 3 - n.
        helper.make_node("Shape", [TOKENS_INPUT], [f"{p}_shape"]),
        helper.make_node("Gather", [f"{p}_shape", names["one"]], [f"{p}_width"], axis=0),
        helper.make_node("Add", [f"{p}_width", names["two"]], [f"{p}_starts"]),
        helper.make_node("Range", [names["zero"], f"{p}_starts", names["one"]], [f"{p}_positions"]),
        helper.make_node("Unsqueeze", [LENGTHS_INPUT, f"{p}_axes_12"], [f"{p}_lengths_3d"]),
        helper.make_node("Add", [f"{p}_lengths_3d", names["limit_offset"]], [f"{p}_limits"]),
        helper.make_node("Less", [f"{p}_positions", f"{p}_limits"], [f"{p}_valid"]),
        helper.make_node("Where", [f"{p}_valid", f"{p}_hashed", names["buckets"]], [f"{p}_ids"]),
        helper.make_node("Reshape", [f"{p}_ids", "batch_windows"], [f"{p}_ids_flat"]),
        helper.make_node("Reshape", [f"{p}_ids", "batch_one_windows"], [f"{p}_ids_row"]),
    ]
    _window_sum(names["table"], names["row_scale"], f"{p}_ids", f"{p}_sum", nodes)
    nodes += [
        helper.make_node("Cast", [LENGTHS_INPUT], [f"{p}_lengths_f"], to=TensorProto.FLOAT),
        helper.make_node("Mul", [f"{p}_lengths_f", names["window_scale"]], [f"{p}_scaled"]),
        helper.make_node("Add", [f"{p}_scaled", names["window_offset"]], [f"{p}_windows"]),
        helper.make_node("Unsqueeze", [f"{p}_windows", "axis_1"], [f"{p}_windows_2d"]),
        helper.make_node("Div", [f"{p}_sum", f"{p}_windows_2d"], [f"{p}_bag"]),
    ]
    initializers.append(numpy_helper.from_array(np.array([1, 2], dtype=np.int64), f"{p}_axes_12"))
    return f"{p}_bag"


def has_naive_bayes_head(
    model: NameClassifier | NameClassifierEnsemble,
) -> TypeGuard[NameClassifierEnsemble]:
    """A fitted head with a non-zero weight; at weight 0 it would only cost a lookup per n-gram."""
    return (
        isinstance(model, NameClassifierEnsemble)
        and bool(model.ngram_log_likelihood.numel())
        and float(model.naive_bayes_weight) != 0.0
    )


def _naive_bayes_head(
    model: NameClassifierEnsemble,
    bag_prefix: str,
    nodes: list[onnx.NodeProto],
    initializers: list[onnx.TensorProto],
) -> None:
    """``logits = network + weight · Σ log P(n-gram | label)``, on the first bag's n-gram ids."""
    table, row_scale = quantize_rows(_array(model.ngram_log_likelihood))
    initializers += [
        numpy_helper.from_array(table, "naive_bayes_table"),
        numpy_helper.from_array(row_scale.reshape(-1), "naive_bayes_row_scale"),
        numpy_helper.from_array(
            np.array(float(model.naive_bayes_weight), dtype=np.float32), "naive_bayes_weight"
        ),
    ]
    _window_sum(
        "naive_bayes_table", "naive_bayes_row_scale", f"{bag_prefix}_ids", "nb_scores", nodes
    )
    nodes += [
        helper.make_node("Mul", ["nb_scores", "naive_bayes_weight"], ["nb_weighted"]),
        helper.make_node("Add", ["network", "nb_weighted"], ["logits"]),
    ]


def round_tables_as_stored(model: NameClassifier | NameClassifierEnsemble) -> None:
    """Round the tables in place to what the graph stores: n-gram vectors and naive Bayes rows,
    each int8 per row with a float16 scale.

    Rounding the torch model the same way keeps the parity gate exact instead of loosening its
    tolerance. Idempotent.
    """
    members = list(model.members) if isinstance(model, NameClassifierEnsemble) else [model]
    with torch.no_grad():
        for member in members:
            bag = getattr(member, "ngrams", None)
            if isinstance(bag, CharacterNgramBag):
                stored = dequantize_rows(*quantize_rows(_array(bag.table.weight)))
                bag.table.weight.copy_(torch.from_numpy(stored))
        if isinstance(model, NameClassifierEnsemble) and model.ngram_log_likelihood.numel():
            stored = dequantize_rows(*quantize_rows(_array(model.ngram_log_likelihood)))
            model.ngram_log_likelihood.copy_(torch.from_numpy(stored))


def build_onnx_model(model: NameClassifier | NameClassifierEnsemble) -> onnx.ModelProto:
    """The exported graph: the manifest's interface, ensemble mean, prior shift and temperature.

    An ensemble's members share one embedding lookup (their tables side by side, then split) and
    one linear head (their heads side by side, each scaled by 1/members), so that only the GRUs
    grow with the number of members.
    """
    if isinstance(model, NameClassifierEnsemble):
        members: list[NameClassifier] = list(model.members)  # type: ignore[arg-type]
        logit_bias = _array(model.logit_bias)
    else:
        members = [model]
        logit_bias = np.zeros(model.head.out_features, dtype=np.float32)
    count = len(members)
    embedding_sizes = [member.embedding.embedding_dim for member in members]
    head_weight = np.concatenate([_array(member.head.weight) for member in members], axis=1)
    head_bias = np.mean([_array(member.head.bias) for member in members], axis=0) + logit_bias
    initializers: list[onnx.TensorProto] = [
        numpy_helper.from_array(
            np.concatenate([_array(member.embedding.weight) for member in members], axis=1),
            "embedding",
        ),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "axis_0"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis_1"),
        numpy_helper.from_array(np.array([0, -1], dtype=np.int64), "batch_windows"),
        numpy_helper.from_array(np.array([0, 1, -1], dtype=np.int64), "batch_one_windows"),
        numpy_helper.from_array(np.array(embedding_sizes, dtype=np.int64), "embedding_sizes"),
        numpy_helper.from_array(
            np.array(1.0 / float(model.temperature), dtype=np.float32), "inverse_temperature"
        ),
        numpy_helper.from_array((head_weight / count).astype(np.float32), "head_weight"),
        numpy_helper.from_array(head_bias.astype(np.float32), "head_bias"),
    ]
    nodes: list[onnx.NodeProto] = [
        helper.make_node("Gather", ["embedding", TOKENS_INPUT], ["embedded"]),
        helper.make_node("Transpose", ["embedded"], ["time_major"], perm=[1, 0, 2]),
        helper.make_node("Cast", [LENGTHS_INPUT], ["sequence_lens"], to=TensorProto.INT32),
    ]
    member_inputs = [f"m{index}_input" for index in range(count)]
    if count == 1:
        member_inputs = ["time_major"]
    else:
        nodes.append(
            helper.make_node("Split", ["time_major", "embedding_sizes"], member_inputs, axis=2)
        )
    states: list[str] = []
    for index, (member, source) in enumerate(zip(members, member_inputs, strict=True)):
        for rnn, direction, tag in (
            (member.forward_rnn, "forward", "fwd"),
            (member.backward_rnn, "reverse", "bwd"),
        ):
            states.append(
                _gru_stack(
                    rnn, direction, source, "sequence_lens", f"m{index}_{tag}", nodes, initializers
                )
            )
        if member.ngrams is not None:
            states.append(_ngram_bag(member.ngrams, f"m{index}_ngram", nodes, initializers))
    nodes += [
        helper.make_node("Concat", states, ["features"], axis=1),
        helper.make_node("Gemm", ["features", "head_weight", "head_bias"], ["network"], transB=1),
    ]
    if has_naive_bayes_head(model):
        _naive_bayes_head(model, "m0_ngram", nodes, initializers)
    else:
        nodes.append(helper.make_node("Identity", ["network"], ["logits"]))
    nodes += [
        helper.make_node("Mul", ["logits", "inverse_temperature"], ["calibrated"]),
        helper.make_node("LogSoftmax", ["calibrated"], [LOG_PROBABILITIES_OUTPUT], axis=1),
    ]
    used = {name for node in nodes for name in node.input}
    initializers = [tensor for tensor in initializers if tensor.name in used]
    num_labels = members[0].head.out_features
    graph = helper.make_graph(
        nodes,
        "nameorigin_char_gru",
        [
            helper.make_tensor_value_info(TOKENS_INPUT, TensorProto.INT64, ["batch", "time"]),
            helper.make_tensor_value_info(LENGTHS_INPUT, TensorProto.INT64, ["batch"]),
        ],
        [
            helper.make_tensor_value_info(
                LOG_PROBABILITIES_OUTPUT, TensorProto.FLOAT, ["batch", num_labels]
            )
        ],
        initializers,
    )
    onnx_model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="nameorigin-training"
    )
    onnx_model.ir_version = 8
    onnx.checker.check_model(onnx_model, full_check=True)
    return onnx_model
