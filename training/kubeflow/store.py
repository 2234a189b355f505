"""Folders in an object store or on disk, by URI: ``s3://bucket/prefix`` or a local path.

S3 and MinIO go through boto3 (MinIO: set ``AWS_ENDPOINT_URL`` or pass ``endpoint_url``); a plain
path is what the local run publishes to, so the same publish step works with and without a store.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import boto3

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

S3_SCHEME = "s3"


def is_s3(uri: str) -> bool:
    """Whether ``uri`` names an object-store prefix rather than a local folder."""
    return urlparse(uri).scheme == S3_SCHEME


def _bucket_and_prefix(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.strip("/")


def _client(endpoint_url: str | None) -> S3Client:
    return boto3.client("s3", endpoint_url=endpoint_url or None)


def join(uri: str, *parts: str) -> str:
    """``uri`` with path segments appended (S3 keys or local path parts alike)."""
    if is_s3(uri):
        return "/".join([uri.rstrip("/"), *parts])
    return str(Path(uri).joinpath(*parts))


def upload_folder(folder: Path, uri: str, endpoint_url: str | None = None) -> list[str]:
    """Copy every file of ``folder`` under ``uri`` (replacing a local target); the URIs written."""
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    if not is_s3(uri):
        target = Path(uri)
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(folder, target)
        return [str(target / path.relative_to(folder)) for path in files]
    bucket, prefix = _bucket_and_prefix(uri)
    client = _client(endpoint_url)
    written = []
    for path in files:
        key = "/".join(filter(None, [prefix, path.relative_to(folder).as_posix()]))
        client.upload_file(str(path), bucket, key)
        written.append(f"s3://{bucket}/{key}")
    return written


def download_folder(uri: str, folder: Path, endpoint_url: str | None = None) -> int:
    """Copy every object under ``uri`` into ``folder``; how many files (0: nothing there)."""
    folder.mkdir(parents=True, exist_ok=True)
    bucket, prefix = _bucket_and_prefix(uri)
    client = _client(endpoint_url)
    count = 0
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=f"{prefix}/" if prefix else ""
    ):
        for entry in page.get("Contents", []):
            relative = entry["Key"][len(prefix) :].lstrip("/")
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, entry["Key"], str(target))
            count += 1
    return count


@contextmanager
def local_folder(uri: str, endpoint_url: str | None = None) -> Iterator[Path | None]:
    """A local folder with ``uri``'s files (downloaded if in a store); None if there are none."""
    if not is_s3(uri):
        path = Path(uri)
        yield path if path.is_dir() else None
        return
    with tempfile.TemporaryDirectory(prefix="nameorigin-store-") as scratch:
        count = download_folder(uri, Path(scratch), endpoint_url)
        yield Path(scratch) if count else None
