"""Baselines trained in the same run on the same names, and the public peer ethnicseer.

A model only counts as good if it beats what a few lines of scikit-learn get from the same data:
a character n-gram naive Bayes and a logistic regression. ethnicseer (Apache-2.0, PyPI) is a
published name classifier with 12 classes of its own; it is scored on the labels both can
express, through the documented mapping below.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import Pipeline, make_pipeline

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

NGRAMS = (1, 4)

#: ethnicseer's classes → our labels (Irish and Scottish names are "eng" to it, Dutch "ger",
#: Portuguese "spa"); Czech, Polish and Greek have no counterpart and are not scored. "mea"
#: (Middle-Eastern/Arabic) is Arabic; "ind" (Indian) has no label of ours.
ETHNICSEER_TO_LABELS: dict[str, tuple[str, ...]] = {
    "mea": ("Arabic",),
    "chi": ("Chinese",),
    "eng": ("English", "Irish", "Scottish"),
    "frn": ("French",),
    "ger": ("German", "Dutch"),
    "ita": ("Italian",),
    "jap": ("Japanese",),
    "kor": ("Korean",),
    "rus": ("Russian",),
    "spa": ("Spanish", "Portuguese"),
    "vie": ("Vietnamese",),
    "ind": (),
}
#: Our labels → the ethnicseer class they are scored as (labels not listed are not shared).
LABEL_TO_ETHNICSEER = {
    label: code for code, group in ETHNICSEER_TO_LABELS.items() for label in group
}


def _padded(names: Sequence[str]) -> list[str]:
    return [f"^{name}$" for name in names]


def _fit(
    pipeline: Pipeline, names: Sequence[str], targets: IntArray, weights: FloatArray | None
) -> Pipeline:
    last = pipeline.steps[-1][0]
    pipeline.fit(
        _padded(names),
        targets,
        **({f"{last}__sample_weight": weights} if weights is not None else {}),
    )
    return pipeline


def naive_bayes(
    names: Sequence[str], targets: IntArray, weights: FloatArray | None = None
) -> Pipeline:
    """Character 1-4-gram multinomial naive Bayes (uniform class prior: no tutorial mix)."""
    pipeline = make_pipeline(
        TfidfVectorizer(
            analyzer="char", ngram_range=NGRAMS, use_idf=False, norm=None, lowercase=False
        ),
        MultinomialNB(alpha=0.1, fit_prior=False),
    )
    return _fit(pipeline, names, targets, weights)


def logistic_regression(
    names: Sequence[str], targets: IntArray, weights: FloatArray | None = None
) -> Pipeline:
    """Character 1-5-gram TF-IDF logistic regression, class-balanced."""
    pipeline = make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 5), sublinear_tf=True, lowercase=False),
        LogisticRegression(C=10.0, max_iter=100, class_weight="balanced"),
    )
    return _fit(pipeline, names, targets, weights)


def log_scores(model: Pipeline, names: Sequence[str], num_labels: int) -> FloatArray:
    """Log-probabilities [names, labels] (labels a model never saw get -inf)."""
    result = np.full((len(names), num_labels), -np.inf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result[:, model.classes_] = np.log(model.predict_proba(_padded(names)))
    return result


class Ethnicseer:
    """The pretrained peer, loaded once (its pickles ship in the package)."""

    def __init__(self) -> None:
        # Imported here: it loads pkg_resources, NLTK and sklearn pickles (seconds).
        from ethnicseer import EthnicClassifier  # type: ignore[import-untyped]  # noqa: PLC0415

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._classifier: Any = EthnicClassifier.load_pretrained_model()

    def classify(self, names: Sequence[str]) -> list[str]:
        """ethnicseer's code for each name (it expects "first last"; a surname alone works)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [str(code) for code in self._classifier.classify_names(list(names))]


def shared_class_score(
    predicted_codes: Sequence[str],
    targets: IntArray,
    labels: Sequence[str],
    *,
    rounds: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Accuracy and balanced accuracy in ethnicseer's classes, on the pairs whose label it has.

    ``predicted_codes[i]`` is an ethnicseer code (ours are mapped with LABEL_TO_ETHNICSEER; a label
    without a counterpart, e.g. Czech, can never be right). Pairs labelled Czech, Polish or Greek
    are left out, since ethnicseer cannot express them.
    """
    true_codes = [LABEL_TO_ETHNICSEER.get(labels[t]) for t in targets.tolist()]
    rows = [i for i, code in enumerate(true_codes) if code is not None]
    if not rows:
        return {"examples": 0, "classes": []}
    truth = np.asarray([true_codes[i] for i in rows])
    right = np.asarray([predicted_codes[i] == true_codes[i] for i in rows], dtype=np.float64)
    codes = sorted(set(truth.tolist()))
    members = [truth == code for code in codes]

    def balanced(weights: FloatArray) -> float:
        recalls = [
            float(np.average(right[m], weights=weights[m])) for m in members if weights[m].sum() > 0
        ]
        return float(np.mean(recalls))

    generator = np.random.default_rng(seed)
    draws_accuracy, draws_balanced = [], []
    for _ in range(rounds):
        counts = np.bincount(generator.integers(0, len(rows), len(rows)), minlength=len(rows))
        weights = counts.astype(np.float64)
        draws_accuracy.append(float(np.average(right, weights=weights)))
        draws_balanced.append(balanced(weights))
    result: dict[str, Any] = {
        "examples": len(rows),
        "classes": codes,
        "accuracy": float(right.mean()),
        "balanced_accuracy": balanced(np.ones(len(rows))),
    }
    if rounds:
        result["interval95"] = {
            "accuracy": [float(v) for v in np.percentile(draws_accuracy, (2.5, 97.5))],
            "balanced_accuracy": [float(v) for v in np.percentile(draws_balanced, (2.5, 97.5))],
        }
    return result


def our_codes(scores: npt.NDArray[np.floating[Any]], labels: Sequence[str]) -> list[str]:
    """Our top-1 label as an ethnicseer code ("-" for a label ethnicseer does not have)."""
    return [LABEL_TO_ETHNICSEER.get(labels[i], "-") for i in scores.argmax(axis=1).tolist()]
