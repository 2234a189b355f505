"""Read the hashed lock files (``make lock``): name -> (version, sha256 hashes)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_LOCK = ROOT / "functions" / "requirements.txt"
IMAGE_LOCK = ROOT / "k8s-knative" / "requirements.txt"


def canonical(name: str) -> str:
    """PEP 503 name: lower case, runs of -_. as one dash."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> dict[str, tuple[str, list[str]]]:
    """Every pinned distribution of a ``--generate-hashes`` requirements file."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    pins: dict[str, tuple[str, list[str]]] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(\S+)(.*)$", line)
        assert match, f"{path.name}: not an exact pin: {line!r}"
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", match.group(4))
        pins[canonical(match.group(1))] = (match.group(3).split(";")[0], hashes)
    return pins
