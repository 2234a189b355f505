"""The two pictures a reviewer looks at first: which classes get confused, and how training went."""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")  # files only, never a display

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt

from training.train import EpochRecord

CONFUSION_PNG = "confusion_matrix.png"
CURVES_PNG = "training_curves.png"


def plot_confusion(matrix: npt.NDArray[np.float64], labels: tuple[str, ...], path: Path) -> None:
    """Row-normalized confusion matrix as a heat map with the rates written in."""
    figure, axes = plt.subplots(figsize=(11, 9))
    image = axes.imshow(matrix, cmap="Blues", vmin=0.0, vmax=1.0)
    axes.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true (rows sum to 1)")
    for row in range(len(labels)):
        for column in range(len(labels)):
            if matrix[row, column] >= 0.01:
                colour = "white" if matrix[row, column] > 0.5 else "black"
                text = f"{matrix[row, column]:.2f}"
                axes.text(column, row, text, ha="center", va="center", fontsize=7, color=colour)
    figure.colorbar(image)
    axes.set_title("Test split: confusion matrix normalized by true class")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_curves(history: list[EpochRecord], path: Path) -> None:
    """Loss and validation accuracy / macro-F1 per epoch, one line per ensemble member."""
    figure, (loss_axes, score_axes) = plt.subplots(1, 2, figsize=(12, 4.5))
    for member in sorted({record.member for record in history}):
        records = [record for record in history if record.member == member]
        epochs = [record.epoch for record in records]
        loss_axes.plot(epochs, [r.train_loss for r in records], label=f"train loss m{member}")
        loss_axes.plot(
            epochs, [r.validation_loss for r in records], "--", label=f"validation loss m{member}"
        )
        score_axes.plot(
            epochs, [r.validation_accuracy for r in records], label=f"validation acc m{member}"
        )
        score_axes.plot(
            epochs,
            [r.validation_macro_f1 for r in records],
            "--",
            label=f"validation macro-F1 m{member}",
        )
    loss_axes.set_xlabel("epoch")
    loss_axes.set_ylabel("cross-entropy")
    score_axes.set_xlabel("epoch")
    score_axes.set_ylabel("score")
    loss_axes.legend(fontsize=7)
    score_axes.legend(fontsize=7)
    figure.suptitle("Training curves")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
