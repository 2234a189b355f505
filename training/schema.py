"""``manifest.schema.json``: the manifest's JSON Schema, generated from the pydantic model.

Committed beside the artifact so non-Python consumers can validate a manifest; a test keeps it in
sync with :class:`nameorigin.core.manifest.Manifest`. Regenerate with ``python -m training.schema``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from nameorigin.core.manifest import Manifest

SCHEMA_FILE = "manifest.schema.json"
DEFAULT_ARTIFACTS_DIR = Path(__file__).resolve().parents[1] / "artifacts"


def manifest_schema_text() -> str:
    """The schema as stable, human-readable JSON text."""
    return json.dumps(Manifest.model_json_schema(), indent=2, sort_keys=True) + "\n"


def write_schema(model_dir: Path) -> Path:
    """Write ``model_dir/manifest.schema.json``."""
    path = model_dir / SCHEMA_FILE
    path.write_text(manifest_schema_text(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_schema(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ARTIFACTS_DIR))
