"""Serving reads names exactly as training did, and answers what training's own tensors give.

Training normalizes with ``training.data`` and encodes the whole data set at once, padded to the
longest name; serving normalizes each raw request and runs length buckets. On every line of the
real data set both paths must agree: same normalized text, same top labels, same scores.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from nameorigin.core.classifier import Classifier, Prediction
from nameorigin.core.encoding import CharacterEncoder
from nameorigin.core.manifest import LENGTHS_INPUT, LOG_PROBABILITIES_OUTPUT, TOKENS_INPUT
from training.data import data_files, load_names, read_lines

WORKSTATION_DATA_DIR = Path(__file__).resolve().parents[4] / "shared" / "data" / "names"


@pytest.fixture(scope="module")
def data_dir() -> Path:
    configured = os.environ.get("NAMEORIGIN_DATA_DIR")
    if configured:
        return Path(configured)
    if os.environ.get("CI"):
        pytest.fail("NAMEORIGIN_DATA_DIR must point at the names data set in CI")
    if WORKSTATION_DATA_DIR.is_dir():
        return WORKSTATION_DATA_DIR
    pytest.skip("NAMEORIGIN_DATA_DIR is unset and the shared data set is missing (make data)")


@pytest.mark.slow
def test_serving_normalizes_every_raw_line_as_training_did(
    classifier: Classifier, data_dir: Path
) -> None:
    raw_lines = [line for path in data_files(data_dir) for line in read_lines(path)]
    training_names = set(load_names(data_dir).names)
    served = {classifier.normalize(line) for line in raw_lines}
    assert {name for name in served if isinstance(name, str)} == training_names


@pytest.mark.slow
def test_served_predictions_equal_training_side_scoring(
    classifier: Classifier, data_dir: Path
) -> None:
    dataset = load_names(data_dir)
    names = list(dataset.names)
    tokens, lengths = CharacterEncoder(dataset_alphabet(classifier)).encode(names)
    (training_scores,) = classifier.session.run(
        [LOG_PROBABILITIES_OUTPUT], {TOKENS_INPUT: tokens, LENGTHS_INPUT: lengths}
    )
    outcomes = classifier.classify(names, top_k=3)
    assert all(isinstance(outcome, Prediction) for outcome in outcomes)
    served_top = [outcome.labels for outcome in outcomes if isinstance(outcome, Prediction)]
    training_top = [
        tuple(dataset.labels[index] for index in row)
        for row in np.argsort(-training_scores, axis=1, kind="stable")[:, :3]
    ]
    assert served_top == training_top
    served_scores = np.array(
        [outcome.log_probabilities for outcome in outcomes if isinstance(outcome, Prediction)]
    )
    np.testing.assert_allclose(
        served_scores, np.sort(training_scores, axis=1)[:, ::-1][:, :3], atol=1e-5
    )


def dataset_alphabet(classifier: Classifier) -> str:
    """The alphabet training encoded with, as the manifest records it."""
    return str(classifier.manifest.normalization["alphabet"])
