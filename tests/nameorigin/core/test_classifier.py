"""The classifier: batching, bucketing, top-k and per-name rejections over the committed model."""

from __future__ import annotations

import math
import random
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from nameorigin.core.classifier import Classifier, Prediction, Rejection, RejectionReason
from nameorigin.core.manifest import ArtifactError, load_manifest, sha256_of_file, write_manifest

NAMES = [
    "Jordan",
    "Nguyen",
    "Schmidt",
    "O'Brien",
    "Tanaka",
    "Rossi",
    "Kowalski",
    "Dvořák",
    "Papadopoulos",
    "Kim",
    "da Silva",
    "MacLeod",
    "van der Berg",
    "Ng",
    "Abadi",
    "Xu",
]


def random_names(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [
        "".join(rng.choice(letters) for _ in range(rng.randint(1, 30))).title()
        for _ in range(count)
    ]


def test_batch_equals_one_by_one(classifier: Classifier) -> None:
    batch = classifier.classify(NAMES, top_k=3)
    single = [classifier.classify([name], top_k=3)[0] for name in NAMES]
    assert [p.labels for p in batch] == [p.labels for p in single]  # type: ignore[union-attr]
    for together, alone in zip(batch, single, strict=True):
        assert isinstance(together, Prediction) and isinstance(alone, Prediction)
        np.testing.assert_allclose(together.log_probabilities, alone.log_probabilities, atol=1e-5)


def test_bucketing_keeps_input_order(committed_model_dir: Path) -> None:
    names = random_names(500)
    small_buckets = Classifier.load(committed_model_dir, bucket_size=7)
    one_bucket = Classifier.load(committed_model_dir, bucket_size=10_000)
    normalized = [str(small_buckets.normalize(name)) for name in names]
    np.testing.assert_allclose(
        small_buckets.log_probabilities(normalized),
        one_bucket.log_probabilities(normalized),
        atol=1e-5,
    )
    outcomes = small_buckets.classify(names, top_k=1)
    assert [outcome.name for outcome in outcomes] == names


def test_buckets_on_several_threads_answer_exactly_as_on_one(committed_model_dir: Path) -> None:
    names = random_names(3000)
    one = Classifier.load(committed_model_dir, bucket_size=64)
    two = Classifier.load(committed_model_dir, bucket_size=64, batch_threads=2)
    normalized = [str(one.normalize(name)) for name in names]
    np.testing.assert_array_equal(
        one.log_probabilities(normalized), two.log_probabilities(normalized)
    )
    assert two._pool is not None and two._pool._max_workers == 2  # the threads were used
    assert one._pool is None


def test_rows_are_log_probability_distributions(classifier: Classifier) -> None:
    scores = classifier.log_probabilities([str(classifier.normalize(n)) for n in NAMES])
    assert scores.shape == (len(NAMES), len(classifier.labels))
    assert scores.dtype == np.float32
    np.testing.assert_allclose(np.exp(scores).sum(axis=1), 1.0, atol=1e-5)


def test_top_k_is_sorted_and_consistent(classifier: Classifier) -> None:
    full = classifier.classify(["Jordan"], top_k=len(classifier.labels))[0]
    top3 = classifier.classify(["Jordan"], top_k=3)[0]
    assert isinstance(full, Prediction) and isinstance(top3, Prediction)
    assert sorted(full.labels) == sorted(classifier.labels)
    assert list(full.log_probabilities) == sorted(full.log_probabilities, reverse=True)
    assert top3.labels == full.labels[:3]
    assert math.isclose(sum(full.probabilities), 1.0, abs_tol=1e-5)
    assert all(0.0 <= p <= 1.0 for p in top3.probabilities)


def test_single_name_path_equals_the_batch_machinery_exactly(classifier: Classifier) -> None:
    """``classify([name])`` takes a lean path; its answers are the general path's, bit for bit."""
    names = [*NAMES, *random_names(1500, seed=3), "", "12345", "x" * 65]
    for index, name in enumerate(names):
        k = index % len(classifier.labels) + 1
        normalized = classifier.normalize(name)
        if isinstance(normalized, Rejection):
            assert classifier.classify([name], top_k=k) == [normalized]
            continue
        tokens, lengths = classifier.encoder.encode([normalized], pad_to=len(normalized))
        best, values = classifier.top_k(classifier._run(tokens, lengths), k)
        expected = Prediction(
            name=name,
            labels=tuple(classifier.labels[i] for i in best[0].tolist()),
            log_probabilities=tuple(values[0].tolist()),
        )
        assert classifier.classify([name], top_k=k) == [expected]


def test_single_name_path_breaks_ties_as_the_batch_path_does(
    classifier: Classifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Equal scores keep label order on both paths (the lean one sorts a 1-D row)."""
    tied = np.full((1, len(classifier.labels)), -3.0, dtype=np.float32)
    tied[0, [2, 5, 9]] = -1.0
    monkeypatch.setattr(classifier, "_run", lambda tokens, lengths: tied)
    for k in (1, 2, 4, len(classifier.labels)):
        (single,) = classifier.classify(["Jordan"], top_k=k)
        best, values = classifier.top_k(tied, k)
        assert isinstance(single, Prediction)
        assert single.labels == tuple(classifier.labels[i] for i in best[0].tolist())
        assert single.log_probabilities == tuple(values[0].tolist())
    (top4,) = classifier.classify(["Jordan"], top_k=4)
    assert isinstance(top4, Prediction)
    assert top4.labels == tuple(classifier.labels[i] for i in (2, 5, 9, 0))


def test_a_rejected_single_name_is_answered_before_k_is_checked(classifier: Classifier) -> None:
    (outcome,) = classifier.classify([""], top_k=99)
    assert isinstance(outcome, Rejection)


@pytest.mark.parametrize("k", [0, 19, -1])
def test_top_k_out_of_range(classifier: Classifier, k: int) -> None:
    with pytest.raises(ValueError, match="k must be between 1 and 18"):
        classifier.classify(["Jordan"], top_k=k)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", RejectionReason.EMPTY),
        ("   \t", RejectionReason.EMPTY),
        ("12345", RejectionReason.NO_LETTERS),
        ("☃ ☃", RejectionReason.NO_LETTERS),
        ("x" * 65, RejectionReason.TOO_LONG),
    ],
)
def test_unclassifiable_names_are_rejected_alone(
    classifier: Classifier, name: str, reason: RejectionReason
) -> None:
    outcomes = classifier.classify(["Jordan", name, "Tanaka"], top_k=2)
    assert isinstance(outcomes[0], Prediction)
    assert isinstance(outcomes[2], Prediction)
    rejection = outcomes[1]
    assert isinstance(rejection, Rejection)
    assert rejection.reason is reason
    assert rejection.name == name
    assert rejection.message


def test_name_limit_is_configurable(committed_model_dir: Path) -> None:
    strict = Classifier.load(committed_model_dir, max_name_length=5)
    outcome = strict.classify(["Jordanian"], top_k=1)[0]
    assert isinstance(outcome, Rejection)
    assert "limit is 5" in outcome.message


def test_empty_batch(classifier: Classifier) -> None:
    assert classifier.classify([], top_k=1) == []


def test_equivalent_spellings_get_the_same_answer(classifier: Classifier) -> None:
    a, b = classifier.classify(["Müller", "  MULLER "], top_k=3)
    assert isinstance(a, Prediction) and isinstance(b, Prediction)
    assert a.labels == b.labels
    assert a.log_probabilities == b.log_probabilities


def _write_wrong_interface_model(path: Path) -> None:
    tokens = helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", "time"])
    lengths = helper.make_tensor_value_info("lengths", TensorProto.INT64, ["batch"])
    out = helper.make_tensor_value_info("log_probabilities", TensorProto.INT64, ["batch", "time"])
    graph = helper.make_graph(
        [helper.make_node("Identity", ["ids"], ["log_probabilities"])],
        "wrong",
        [tokens, lengths],
        [out],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def test_a_model_with_another_interface_is_refused(
    committed_model_dir: Path, tmp_path: Path
) -> None:
    shutil.copytree(committed_model_dir, tmp_path / "model")
    model_path = tmp_path / "model" / "model.onnx"
    _write_wrong_interface_model(model_path)
    manifest = load_manifest(committed_model_dir).model_copy(
        update={"model_sha256": sha256_of_file(model_path)}
    )
    write_manifest(manifest, tmp_path / "model")
    with pytest.raises(ArtifactError, match="inputs"):
        Classifier.load(tmp_path / "model")


def test_a_file_that_is_not_onnx_is_refused(committed_model_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(committed_model_dir, tmp_path / "model")
    model_path = tmp_path / "model" / "model.onnx"
    model_path.write_bytes(b"definitely not a protobuf")
    manifest = load_manifest(committed_model_dir).model_copy(
        update={"model_sha256": sha256_of_file(model_path)}
    )
    write_manifest(manifest, tmp_path / "model")
    with pytest.raises(ArtifactError, match="onnxruntime cannot load"):
        Classifier.load(tmp_path / "model")


def test_greek_and_cyrillic_names_get_the_answers_of_their_romanized_spelling(
    classifier: Classifier,
) -> None:
    outcomes = classifier.classify(
        ["Кузнецова", "Kuznetsova", "Παπαδόπουλος", "Papadopoulos"],
        top_k=3,
    )
    assert all(isinstance(outcome, Prediction) for outcome in outcomes)
    assert outcomes[0].labels == outcomes[1].labels  # type: ignore[union-attr]
    assert outcomes[0].log_probabilities == outcomes[1].log_probabilities  # type: ignore[union-attr]
    assert outcomes[2].labels == outcomes[3].labels  # type: ignore[union-attr]


def test_a_script_the_model_cannot_read_is_named_in_the_rejection(classifier: Classifier) -> None:
    rejection = classifier.classify(["김민준"], top_k=1)[0]
    assert isinstance(rejection, Rejection)
    assert rejection.reason is RejectionReason.NO_LETTERS
    assert "Latin letters, or Greek or Cyrillic" in rejection.message
