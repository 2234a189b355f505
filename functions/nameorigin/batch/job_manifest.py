"""The job manifest: one input file submitted as several batch messages, collected as one job.

A file too big for one message becomes many batches (one results object each). ``submit`` writes
``jobs/<job_id>.json`` listing them in input order so ``results JOB_ID`` can gather every batch into
one output whose lines follow the input file. Only the CLI reads and writes it; the worker never
sees a job (its unit stays the batch message). ``schemas/job-manifest.schema.json`` is generated
from this model.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from nameorigin.batch.messages import BATCH_ID_PATTERN, FileFormat

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: Where manifests live in the results bucket (beside ``results/``, never inside it).
JOBS_PREFIX = "jobs/"
#: Prefix of job ids derived from the job's batch ids (so resubmitting a file gives the same job).
DERIVED_JOB_PREFIX = "job-"


class JobBatch(BaseModel):
    """One message of the job; its digest tells its results from another message's under the
    same batch id (which the worker refuses to overwrite: that batch can never complete)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    batch_id: str = Field(pattern=BATCH_ID_PATTERN, description="results/<batch_id>.jsonl")
    message_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="What its batch summary's message_sha256 must be."
    )
    names: int | None = Field(default=None, ge=1, description="Names inline; null: claim check")


class JobManifest(BaseModel):
    """``jobs/<job_id>.json``: the batches one submitted file became, in input order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    job_id: str = Field(pattern=BATCH_ID_PATTERN)
    input_file: str = Field(description="The submitted file's name (no directories).")
    input_bytes: int = Field(ge=0)
    input_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    format: FileFormat
    lines: int = Field(ge=0, description="Lines in the input file (a CSV header included).")
    names: int | None = Field(
        default=None,
        ge=1,
        description="Names sent inline, the total of the batches' counts; null when the file went "
        "as one claim check (the worker counts them: see the batch summary).",
    )
    top_k: int = Field(ge=1)
    source: str = Field(
        description="'inline' or the claim-check s3:// URI the file was uploaded to"
    )
    batches: list[JobBatch] = Field(min_length=1, description="The job's batches in input order.")
    created_at: datetime

    @property
    def batch_ids(self) -> list[str]:
        """The batch ids in input order."""
        return [batch.batch_id for batch in self.batches]


def job_key(job_id: str) -> str:
    """Key of a job's manifest in the results bucket."""
    return f"{JOBS_PREFIX}{job_id}.json"


def write_manifest(client: S3Client, bucket: str, manifest: JobManifest) -> str:
    """Store the manifest; returns its key."""
    key = job_key(manifest.job_id)
    client.put_object(
        Bucket=bucket,
        Key=key,
        Body=manifest.model_dump_json(indent=2).encode(),
        ContentType="application/json",
    )
    return key


def read_manifest(client: S3Client, bucket: str, job_id: str) -> JobManifest | None:
    """The job's manifest, or None when ``job_id`` is no job (a plain batch id, say)."""
    try:
        response = client.get_object(Bucket=bucket, Key=job_key(job_id))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return None
        raise
    return JobManifest.model_validate_json(response["Body"].read())
