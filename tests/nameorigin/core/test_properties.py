"""Properties of the core on generated input (hypothesis, derandomized: the same cases every run).

Whatever Unicode a client sends (lone surrogates, control characters, combining marks, emoji,
thousands of characters), normalization, encoding and classification either answer or reject the
name with a ``Rejection``; they never raise. Answers are top-k sorted probabilities in [0, 1]
summing to at most 1, and a name's answer does not depend on the batch it came in.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nameorigin.core.classifier import Classifier, Prediction, Rejection

PROPERTY_SETTINGS = settings(
    derandomize=True,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow],
)
#: Any code point Python can hold, surrogates included (JSON's "\ud800" escapes produce them).
ANY_CHARACTER = st.characters(codec=None, categories=None)
#: Mostly name-like text, sometimes anything at all, sometimes far over the length limit.
NAMES = st.one_of(
    st.text(alphabet=ANY_CHARACTER, max_size=40),
    st.text(alphabet=st.characters(categories=["L", "M", "Zs", "Pd"]), min_size=1, max_size=30),
    st.from_regex(r"[A-Za-z][a-z' -]{0,20}", fullmatch=True),
    st.text(alphabet=ANY_CHARACTER, min_size=200, max_size=2_000),
)


@PROPERTY_SETTINGS
@given(name=NAMES)
def test_normalize_and_encode_answer_or_reject_any_text(classifier: Classifier, name: str) -> None:
    outcome = classifier.normalize(name)
    if isinstance(outcome, Rejection):
        assert outcome.name == name and outcome.message
        return
    assert outcome and set(outcome) <= set(classifier.rule.alphabet)
    assert len(outcome) <= classifier.max_name_length
    tokens, lengths = classifier.encoder.encode([outcome])
    assert lengths.tolist() == [len(outcome)] and int(tokens.min()) >= 1


@PROPERTY_SETTINGS
@given(names=st.lists(NAMES, min_size=1, max_size=12), top_k=st.integers(1, 64))
def test_classify_answers_every_name_with_sorted_probabilities(
    classifier: Classifier, names: list[str], top_k: int
) -> None:
    k = min(top_k, len(classifier.labels))
    outcomes = classifier.classify(names, k)
    assert len(outcomes) == len(names)
    for name, outcome in zip(names, outcomes, strict=True):
        assert outcome.name == name
        if isinstance(outcome, Rejection):
            continue
        assert isinstance(outcome, Prediction)
        assert len(outcome.labels) == k == len(set(outcome.labels))
        assert set(outcome.labels) <= set(classifier.labels)
        probabilities = outcome.probabilities
        assert all(0.0 <= p <= 1.0 for p in probabilities)
        assert sum(probabilities) <= 1.0 + 1e-5
        assert list(probabilities) == sorted(probabilities, reverse=True)
        assert all(math.isfinite(value) for value in outcome.log_probabilities)


@PROPERTY_SETTINGS
@given(names=st.lists(NAMES, min_size=2, max_size=12))
def test_each_answer_in_a_batch_equals_the_answer_alone(
    classifier: Classifier, names: list[str]
) -> None:
    every = len(classifier.labels)
    together = classifier.classify(names, every)
    for name, in_batch in zip(names, together, strict=True):
        (alone,) = classifier.classify([name], every)
        assert type(alone) is type(in_batch)
        if isinstance(alone, Rejection):
            assert isinstance(in_batch, Rejection) and alone.reason == in_batch.reason
            continue
        assert isinstance(in_batch, Prediction) and isinstance(alone, Prediction)
        # Compared label by label: near-ties may swap places within float noise.
        batch_scores = dict(zip(in_batch.labels, in_batch.log_probabilities, strict=True))
        alone_scores = dict(zip(alone.labels, alone.log_probabilities, strict=True))
        assert batch_scores.keys() == alone_scores.keys()
        np.testing.assert_allclose(
            [batch_scores[label] for label in classifier.labels],
            [alone_scores[label] for label in classifier.labels],
            atol=1e-4,
        )
