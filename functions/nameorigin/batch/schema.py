"""Generate the committed JSON Schemas of the batch contract from its pydantic models.

``python -m nameorigin.batch.schema`` rewrites ``schemas/*.schema.json``; a test fails when the
committed files and the models disagree, so the published contract can never drift from the code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from nameorigin.batch.messages import BatchMessage
from nameorigin.batch.results import BatchSummary, ResultLine

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
_BASE_ID = "https://github.com/nameorigin/nameorigin/schemas/"


def schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema document, for every shape the batch mode exchanges."""
    documents = {
        "batch-message.schema.json": (
            TypeAdapter(BatchMessage).json_schema(),
            "A nameorigin batch message (SQS body or CloudEvent data): inline names or an s3_uri.",
        ),
        "result-line.schema.json": (
            TypeAdapter(ResultLine).json_schema(),
            "One line of results/<batch_id>.jsonl: a prediction or the reason there is none.",
        ),
        "batch-summary.schema.json": (
            BatchSummary.model_json_schema(),
            "results/<batch_id>.summary.json, written once the results object is complete.",
        ),
    }
    return {
        name: {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": _BASE_ID + name,
            "title": name.removesuffix(".schema.json"),
            "description": description,
            **schema,
        }
        for name, (schema, description) in documents.items()
    }


def render(schema: dict[str, Any]) -> str:
    """The exact text committed for a schema (stable key order, trailing newline)."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    """Rewrite the committed schema files."""
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name, schema in schemas().items():
        (SCHEMA_DIR / name).write_text(render(schema), encoding="utf-8")
        print(f"wrote {SCHEMA_DIR / name}")


if __name__ == "__main__":
    main()
