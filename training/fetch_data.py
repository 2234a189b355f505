"""``make data``: download the PyTorch tutorial's names archive and verify every file's sha256.

The data set is never committed; this is how a user obtains it. The expected sums are committed in
``data/names.sha256`` (``sha256sum`` format), and nothing is left in place unless all of them match.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

ARCHIVE_URL = "https://download.pytorch.org/tutorial/data.zip"
ARCHIVE_FOLDER = "data/names/"
REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
SUMS_FILE = REPOSITORY_ROOT / "data" / "names.sha256"


class FetchError(RuntimeError):
    """The archive could not be fetched or does not hold exactly the expected files."""


def read_sums(path: Path) -> dict[str, str]:
    """``{file name: sha256}`` from a ``sha256sum`` listing."""
    sums = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.lstrip("*")] = digest
    return sums


def verify(folder: Path, sums: dict[str, str]) -> None:
    """Every listed file exists with its sha256, and no unlisted ``.txt`` file is present."""
    present = {path.name for path in folder.glob("*.txt")}
    if present - set(sums):
        raise FetchError(f"unexpected files in {folder}: {sorted(present - set(sums))}")
    for name, expected in sorted(sums.items()):
        path = folder / name
        if not path.is_file():
            raise FetchError(f"{path} is missing")
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != expected:
            raise FetchError(f"{path} has sha256 {actual}, expected {expected}")


def extract_names(archive: bytes, into: Path) -> None:
    """Unpack the archive's ``data/names/*.txt`` files flat into ``into``."""
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        members = [
            item
            for item in bundle.namelist()
            if item.startswith(ARCHIVE_FOLDER) and item.endswith(".txt")
        ]
        if not members:
            raise FetchError(f"the archive has no {ARCHIVE_FOLDER}*.txt files")
        for item in members:
            (into / Path(item).name).write_bytes(bundle.read(item))


def fetch(url: str, into: Path, sums_file: Path = SUMS_FILE) -> Path:
    """Download ``url``, verify its names files against ``sums_file``, then move them to ``into``.

    Files are checked in a temporary folder first, so a bad download never replaces good data.
    """
    sums = read_sums(sums_file)
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            archive = response.read()
    except OSError as error:
        raise FetchError(f"cannot download {url}: {error}") from error
    into.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=into.parent) as staging:
        staged = Path(staging) / "names"
        staged.mkdir()
        extract_names(archive, staged)
        verify(staged, sums)
        if into.exists():
            shutil.rmtree(into)
        staged.rename(into)
    return into


def main(argv: list[str] | None = None) -> int:
    """Fetch into ``--into`` (or only verify an existing copy with ``--verify-only``)."""
    parser = argparse.ArgumentParser(prog="python -m training.fetch_data", description=__doc__)
    parser.add_argument("--into", type=Path, default=REPOSITORY_ROOT / "data" / "names")
    parser.add_argument("--url", default=ARCHIVE_URL)
    parser.add_argument("--sums", type=Path, default=SUMS_FILE)
    parser.add_argument("--verify-only", action="store_true", help="check --into, download nothing")
    arguments = parser.parse_args(argv)
    try:
        if arguments.verify_only:
            verify(arguments.into, read_sums(arguments.sums))
        else:
            fetch(arguments.url, arguments.into, arguments.sums)
    except (FetchError, zipfile.BadZipFile) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{arguments.into}: all {len(read_sums(arguments.sums))} files match {arguments.sums}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
