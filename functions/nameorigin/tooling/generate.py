"""Write every generated file the repository commits, from the code that defines it.

``make generate`` runs this (``python -m nameorigin.tooling.generate``) and then
``python -m training.schema`` for the artifact's ``manifest.schema.json`` (training owns that one).
Written here: ``docs/openapi.json`` (from the routes) and the batch contract's JSON Schemas
``functions/nameorigin/batch/schemas/*.schema.json`` (from its pydantic models). A test fails when
any committed file differs from what this would write, so no contract drifts from the code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from nameorigin import batch
from nameorigin.batch.job_manifest import JobManifest
from nameorigin.batch.messages import BatchMessage
from nameorigin.batch.results import BatchSummary, ResultLine
from nameorigin.routes.resolver import openapi_document

#: A source checkout's root (this is a development tool: it writes into the checkout).
REPOSITORY = Path(__file__).resolve().parents[3]
SCHEMA_DIR = Path(batch.__file__).resolve().parent / "schemas"
OPENAPI_FILE = REPOSITORY / "docs" / "openapi.json"
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
        "job-manifest.schema.json": (
            JobManifest.model_json_schema(),
            "jobs/<job_id>.json: the batches one submitted file became, in input order.",
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


def generated_files() -> dict[Path, str]:
    """Every file this module writes, with the exact text it must hold."""
    files = {SCHEMA_DIR / name: render(schema) for name, schema in schemas().items()}
    files[OPENAPI_FILE] = openapi_document() + "\n"
    return files


def main() -> None:
    """Rewrite every generated file."""
    SCHEMA_DIR.mkdir(exist_ok=True)
    for path, text in generated_files().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(REPOSITORY)}")


if __name__ == "__main__":
    main()
