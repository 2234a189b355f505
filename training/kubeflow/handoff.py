"""What one component hands the next: the split corpus and the trained model, as files.

Both are pickles (torch's for the model). That is safe here because they are written and read by
the same code in the same image within one pipeline run, as intermediate artifacts; what leaves
the pipeline (the published model) is ONNX + JSON only.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from training.corpus import Corpus
from training.data import NamesDataset
from training.pipeline import TrainedModel


def save_corpus(path: Path, dataset: NamesDataset, corpus: Corpus) -> None:
    """Write the data set and its split, so every later step sees the very same names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        pickle.dump((dataset, corpus), file, protocol=pickle.HIGHEST_PROTOCOL)


def load_corpus_file(path: Path) -> tuple[NamesDataset, Corpus]:
    """Read what :func:`save_corpus` wrote."""
    with path.open("rb") as file:
        dataset, corpus = pickle.load(file)
    if not isinstance(dataset, NamesDataset) or not isinstance(corpus, Corpus):
        raise TypeError(f"{path} does not hold a split corpus")
    return dataset, corpus


def save_trained(path: Path, trained: TrainedModel) -> None:
    """The calibrated torch model with its history: the checkpoint export and parity read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(trained, path)


def load_trained(path: Path) -> TrainedModel:
    """Read what :func:`save_trained` wrote (a full pickle: see the module docstring)."""
    trained = torch.load(path, weights_only=False)
    if not isinstance(trained, TrainedModel):
        raise TypeError(f"{path} does not hold a trained model")
    return trained
