"""Read the names data set into (normalized name, label) pairs, refusing anything suspicious.

One file per language, one surname per line. Names are folded with the shared normalization rule
(the same function serving applies to requests), and every problem with the folder stops training
with a one-line :class:`DataError` instead of producing a model trained on half the data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from nameorigin.core.normalization import DEFAULT_RULE, NormalizationRule

DATA_SUFFIX = ".txt"
UTF8_BOM = "\ufeff"


class DataError(RuntimeError):
    """The data folder cannot be trusted for training (missing, empty, undecodable, …)."""


@dataclass(frozen=True)
class NamesDataset:
    """De-duplicated examples: ``names[i]`` carries label index ``targets[i]``.

    A name may occur several times with different labels (real ambiguity, kept); an exact
    (name, label) duplicate occurs once.
    """

    names: tuple[str, ...]
    targets: npt.NDArray[np.int64]
    labels: tuple[str, ...]
    sha256: str
    lines_read: int

    def __len__(self) -> int:
        return len(self.names)

    def class_counts(self) -> dict[str, int]:
        """Examples per label, in label order."""
        counts = np.bincount(self.targets, minlength=len(self.labels))
        return {label: int(count) for label, count in zip(self.labels, counts, strict=True)}


def data_files(data_dir: Path) -> list[Path]:
    """The data set's files in label order; a missing or empty folder is a :class:`DataError`."""
    if not data_dir.is_dir():
        raise DataError(f"data folder {data_dir} does not exist (see data/README.md: make data)")
    files = sorted(data_dir.glob(f"*{DATA_SUFFIX}"))
    if not files:
        raise DataError(f"data folder {data_dir} holds no {DATA_SUFFIX} files")
    return files


def data_sha256(files: list[Path]) -> str:
    """Fingerprint of the data set: sha256 of its ``sha256sum``-style listing.

    Equal to ``cd names && sha256sum *.txt | sha256sum``, so anyone can check which data a
    manifest's model was trained on without this code.
    """
    listing = "".join(
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n" for path in files
    )
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def read_lines(path: Path) -> list[str]:
    """Stripped non-empty lines of a UTF-8 file (a leading BOM and CRLF endings are tolerated)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(
            f"{path} is not UTF-8 (byte {error.start}: {error.reason}); re-encode it"
        ) from error
    text = text.removeprefix(UTF8_BOM)
    return [stripped for line in text.splitlines() if (stripped := line.strip())]


def load_names(data_dir: Path, rule: NormalizationRule = DEFAULT_RULE) -> NamesDataset:
    """Load every ``<Label>.txt`` of ``data_dir``, normalized by ``rule`` and de-duplicated."""
    files = data_files(data_dir)
    labels = tuple(path.stem for path in files)
    names: list[str] = []
    targets: list[int] = []
    seen: set[tuple[str, int]] = set()
    lines_read = 0
    for index, path in enumerate(files):
        kept_before = len(names)
        for line in read_lines(path):
            lines_read += 1
            name = rule.normalize(line)
            if not rule.has_letters(name) or (name, index) in seen:
                continue
            seen.add((name, index))
            names.append(name)
            targets.append(index)
        if len(names) == kept_before:
            raise DataError(f"label {path.stem!r} has no names ({path} is empty after cleaning)")
    if len(labels) < 2:
        raise DataError(f"data folder {data_dir} has {len(labels)} label; at least 2 are needed")
    return NamesDataset(
        names=tuple(names),
        targets=np.asarray(targets, dtype=np.int64),
        labels=labels,
        sha256=data_sha256(files),
        lines_read=lines_read,
    )
