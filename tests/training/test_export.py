"""Export gates: checker-clean interface, temperature baked in, parity, padding invariance."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from nameorigin.core.classifier import create_session
from nameorigin.core.encoding import CharacterEncoder
from nameorigin.core.normalization import DEFAULT_RULE
from training.export import (
    ExportError,
    check_graph,
    check_parity,
    export_onnx,
    run_onnx,
    trace_onnx,
)
from training.model import NameClassifier, NameClassifierEnsemble
from training.onnx_graph import MIN_ROW_SCALE, dequantize_rows, quantize_rows

LABELS = 4
NAMES = ["li", "smith", "o'brien", "nguyen", "van der berg", "x", "dvorak-novakova"]


def _model(seed: int, temperature: float = 1.7, members: int = 1) -> NameClassifierEnsemble:
    torch.manual_seed(seed)
    vocabulary = len(DEFAULT_RULE.alphabet) + 1
    ensemble = [
        NameClassifier(vocabulary, LABELS, embedding_dim=8, hidden_size=12) for _ in range(members)
    ]
    model = NameClassifierEnsemble(ensemble).eval()
    model.temperature.fill_(temperature)
    model.logit_bias.copy_(torch.linspace(-1.0, 1.0, LABELS))
    return model


def _inputs(pad_to: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    return CharacterEncoder(DEFAULT_RULE.alphabet).encode(NAMES, pad_to=pad_to)


@pytest.fixture
def exported(tmp_path: Path) -> tuple[NameClassifierEnsemble, Path]:
    model, path = _model(0), tmp_path / "model.onnx"
    export_onnx(model, path)
    return model, path


def test_graph_is_checker_clean_with_the_served_interface(
    exported: tuple[NameClassifierEnsemble, Path],
) -> None:
    _, path = exported
    check_graph(path, LABELS)
    session = create_session(path, 1)
    for batch, width in [(1, 1), (3, 5), (2, 40)]:
        tokens = np.ones((batch, width), dtype=np.int64)
        lengths = np.full(batch, width, dtype=np.int64)
        assert run_onnx(session, tokens, lengths).shape == (batch, LABELS)


def test_temperature_is_baked_into_the_graph(
    exported: tuple[NameClassifierEnsemble, Path],
) -> None:
    model, path = exported
    tokens, lengths = _inputs()
    with torch.no_grad():
        logits = model.logits(torch.from_numpy(tokens), torch.from_numpy(lengths))
    expected = torch.log_softmax(logits / 1.7, dim=1).numpy()
    assert model.logit_bias.abs().sum() > 0  # the prior adjustment is part of logits()
    actual = run_onnx(create_session(path, 1), tokens, lengths)
    assert np.abs(actual - expected).max() < 1e-5
    assert np.abs(actual - torch.log_softmax(logits, dim=1).numpy()).max() > 1e-3


def test_parity_passes_for_the_exported_model(
    exported: tuple[NameClassifierEnsemble, Path],
) -> None:
    model, path = exported
    tokens, lengths = _inputs(pad_to=64)
    report = check_parity(model, path, tokens, lengths)
    assert report.examples == len(NAMES)
    assert report.max_abs_difference <= 1e-4
    assert report.max_padding_difference <= 1e-5


def test_parity_fails_loudly_for_another_model(
    exported: tuple[NameClassifierEnsemble, Path],
) -> None:
    _, path = exported
    with pytest.raises(ExportError, match="differs from torch"):
        check_parity(_model(seed=1), path, *_inputs())


class _MeanOverPadding(nn.Module):
    """Averages embeddings over the whole padded width: its answer changes with padding."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embedding = nn.Embedding(len(DEFAULT_RULE.alphabet) + 1, LABELS)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        scores = self.embedding(tokens).mean(dim=1) + 0 * lengths.unsqueeze(1)
        return torch.log_softmax(scores, dim=1)


def test_padding_dependent_model_is_refused(tmp_path: Path) -> None:
    model, path = _MeanOverPadding().eval(), tmp_path / "model.onnx"
    trace_onnx(model, path)
    with pytest.raises(ExportError, match="depends on its batch's padding"):
        check_parity(model, path, *_inputs())


def test_wrong_interface_or_opset_is_refused(
    tmp_path: Path, exported: tuple[NameClassifierEnsemble, Path]
) -> None:
    model, path = exported
    with pytest.raises(ExportError, match="opset"):
        check_graph(path, LABELS, opset=18)
    with pytest.raises(ExportError, match="log_probabilities"):
        check_graph(path, LABELS + 1)
    renamed = tmp_path / "renamed.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            tuple(torch.from_numpy(array) for array in _inputs()),
            str(renamed),
            input_names=["tokens", "lengths"],
            output_names=["scores"],
            opset_version=17,
            dynamo=False,
        )
    with pytest.raises(ExportError, match="graph outputs"):
        check_graph(renamed, LABELS)


def test_lean_ensemble_graph_matches_the_traced_one(tmp_path: Path) -> None:
    model = _model(2, members=3)
    lean, traced = tmp_path / "lean.onnx", tmp_path / "traced.onnx"
    export_onnx(model, lean)
    trace_onnx(model, traced)
    tokens, lengths = _inputs(pad_to=64)
    check_graph(lean, LABELS)
    assert check_parity(model, lean, tokens, lengths).max_abs_difference <= 1e-5
    lean_scores = run_onnx(create_session(lean, 1), tokens, lengths)
    traced_scores = run_onnx(create_session(traced, 1), tokens, lengths)
    assert np.abs(lean_scores - traced_scores).max() <= 1e-5
    lean_nodes = len(onnx.load(str(lean)).graph.node)
    assert lean_nodes < len(onnx.load(str(traced)).graph.node) / 4


def _ngram_model(seed: int, dim: int, buckets: int) -> NameClassifierEnsemble:
    """A small model with an n-gram bag whose table holds values of every size (not zeros)."""
    torch.manual_seed(seed)
    vocabulary = len(DEFAULT_RULE.alphabet) + 1
    member = NameClassifier(
        vocabulary, LABELS, embedding_dim=8, hidden_size=12, ngram_dim=dim, ngram_buckets=buckets
    )
    with torch.no_grad():
        member.ngrams.table.weight[:buckets].normal_()  # type: ignore[union-attr]
    return NameClassifierEnsemble([member]).eval()


def test_ngram_bag_and_naive_bayes_head_export_with_parity(tmp_path: Path) -> None:
    model = _ngram_model(3, dim=6, buckets=257)
    # Row 257 is where windows past a name's end land: it must stay zero, as fitting leaves it.
    model.ngram_log_likelihood = torch.cat([torch.randn(257, LABELS), torch.zeros(1, LABELS)])
    model.naive_bayes_weight.fill_(0.3)
    path = tmp_path / "model.onnx"
    export_onnx(model, path)
    check_graph(path, LABELS)
    tokens, lengths = _inputs(pad_to=64)
    report = check_parity(model, path, tokens, lengths)
    assert report.max_abs_difference <= 1e-4
    assert report.max_padding_difference <= 1e-5
    # The naive Bayes head really contributes: without it the answers change.
    session = create_session(path, intra_op_threads=1)
    with_head = run_onnx(session, tokens, lengths)
    model.naive_bayes_weight.fill_(0.0)
    export_onnx(model, path)
    without_head = run_onnx(create_session(path, intra_op_threads=1), tokens, lengths)
    assert np.abs(with_head - without_head).max() > 1e-3


def test_ngram_tables_are_stored_as_int8_rows_with_a_scale_each(tmp_path: Path) -> None:
    model = _ngram_model(4, dim=16, buckets=1023)
    path = tmp_path / "model.onnx"
    export_onnx(model, path)
    stored = {tensor.name: tensor for tensor in onnx.load(str(path)).graph.initializer}
    assert stored["m0_ngram_table"].data_type == onnx.TensorProto.INT8
    assert stored["m0_ngram_row_scale"].data_type == onnx.TensorProto.FLOAT16
    assert "naive_bayes_table" not in stored  # weight 0: the head is left out
    tokens, lengths = _inputs(pad_to=64)
    assert check_parity(model, path, tokens, lengths).max_abs_difference <= 1e-5


def test_row_quantization_is_close_and_idempotent() -> None:
    generator = np.random.default_rng(0)
    table = generator.normal(size=(500, 32)).astype(np.float32)
    table[1] *= 1e-3  # a rarely trained n-gram: small values keep their own precision
    table[-1] = 0.0  # the padding row
    quantized, scale = quantize_rows(table)
    restored = dequantize_rows(quantized, scale)
    step = np.maximum(np.abs(table).max(axis=1, keepdims=True) / 127, MIN_ROW_SCALE)
    error = np.abs(restored - table)
    assert (error <= step * 0.51).all()
    assert error[1].max() < error[0].max() / 100  # the small row's own, finer step
    assert (restored[-1] == 0).all()
    again_quantized, again_scale = quantize_rows(restored)
    assert (again_quantized == quantized).all()
    assert (again_scale == scale).all()


def test_the_naive_bayes_table_is_stored_as_int8_rows_too(tmp_path: Path) -> None:
    model = _ngram_model(5, dim=6, buckets=511)
    model.ngram_log_likelihood = torch.cat([4 * torch.randn(511, LABELS), torch.zeros(1, LABELS)])
    model.naive_bayes_weight.fill_(0.2)
    path = tmp_path / "model.onnx"
    export_onnx(model, path)
    stored = {tensor.name: tensor for tensor in onnx.load(str(path)).graph.initializer}
    assert stored["naive_bayes_table"].data_type == onnx.TensorProto.INT8
    assert stored["naive_bayes_row_scale"].data_type == onnx.TensorProto.FLOAT16
    tokens, lengths = _inputs(pad_to=64)
    assert check_parity(model, path, tokens, lengths).max_abs_difference <= 1e-5


def test_a_model_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    export_onnx(_ngram_model(6, dim=6, buckets=257), path)
    size = path.stat().st_size
    check_graph(path, LABELS, max_bytes=size)
    with pytest.raises(ExportError, match="over the"):
        check_graph(path, LABELS, max_bytes=size - 1)
