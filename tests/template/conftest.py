"""Fixtures for the SAM template tests: the SAM CLI, one `sam build` per test session, the RIE.

`sam build` takes ~15 s, so it runs once per session; with pytest-xdist the workers share one
build through a file lock. A missing SAM CLI or Lambda Python fails (never skips) the tests: CI
gets them from `make test` (sam-venv) and the machine's pyenv.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SAM = ROOT / ".venv-sam" / "bin" / "sam"
RIE = ROOT / ".venv-sam/lib/python3.11/site-packages/samcli/local/rapid/aws-lambda-rie-x86_64"
RIC_DIR = ROOT / "build" / "lambda-ric-py3.12"
SAM_ENVIRONMENT = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}


def run_in_repository(command: list[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a tool from the repository root with the SAM environment; captured, never raises."""
    return subprocess.run(
        command,
        cwd=ROOT,
        env=SAM_ENVIRONMENT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class CloudFormationLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags (``!Ref X`` -> ``{"Ref": "X"}``)."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        return {name: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {name: loader.construct_sequence(node, deep=True)}
    return {name: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]


CloudFormationLoader.add_multi_constructor("!", _tag)


def load_template(path: Path) -> dict[str, Any]:
    """A CloudFormation/SAM YAML template as plain data."""
    data: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=CloudFormationLoader)
    return data


#: samtranslator's command line (run with the SAM CLI's Python): template + parameters -> JSON.
SAM_TRANSFORM = ROOT / "tests" / "support" / "sam_transform.py"


def sam_transformed(
    template_path: Path, parameters: dict[str, str] | None = None
) -> dict[str, Any]:
    """The template after the SAM transform (what `sam deploy` sends to CloudFormation)."""
    result = subprocess.run(
        [str(SAM.parent / "python"), str(SAM_TRANSFORM), str(template_path),
         json.dumps(parameters or {})],
        env=SAM_ENVIRONMENT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    document: dict[str, Any] = json.loads(result.stdout)
    return document


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """The repository's template.yaml."""
    return load_template(ROOT / "template.yaml")


@contextlib.contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def session_shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder all xdist workers of THIS session share (the session's own temp dir alone)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@dataclass(frozen=True)
class SamBuild:
    """Where `sam build` put the application."""

    build_dir: Path

    @property
    def api_function(self) -> Path:
        """The API function's unzipped package."""
        return self.build_dir / "ApiFunction"


@pytest.fixture(scope="session")
def sam_build(tmp_path_factory: pytest.TempPathFactory) -> SamBuild:
    """`sam build` of template.yaml, once per session (shared by xdist workers)."""
    assert SAM.is_file(), f"{SAM} is missing: run `make sam-venv`"
    shared = session_shared_dir(tmp_path_factory)
    build_dir = shared / "sam-build"
    done = shared / "sam-build.done"
    with _exclusive(shared / "sam-build.lock"):
        if not done.exists():
            result = run_in_repository(
                [
                    str(SAM),
                    "build",
                    "-t",
                    str(ROOT / "template.yaml"),
                    "--build-dir",
                    str(build_dir),
                ],
                timeout=900,
            )
            assert result.returncode == 0, result.stdout + result.stderr
            done.write_text("ok")
    return SamBuild(build_dir)


def _make_variable(name: str) -> str:
    result = run_in_repository(["make", "-s", "--no-print-directory", f"print-{name}"])
    return result.stdout.strip()


@dataclass(frozen=True)
class LambdaRuntime:
    """What it takes to run the built function like Lambda does: RIE + RIC + the runtime Python."""

    python: str
    ric_dir: Path
    rie: Path


@pytest.fixture(scope="session")
def lambda_runtime(tmp_path_factory: pytest.TempPathFactory) -> LambdaRuntime:
    """The Lambda runtime's Python with awslambdaric (installed by the Makefile target once)."""
    shared = session_shared_dir(tmp_path_factory)
    with _exclusive(shared / "lambda-ric.lock"):
        result = run_in_repository(
            ["make", "-s", "--no-print-directory", "lambda-ric"], timeout=600
        )
    assert result.returncode == 0, result.stdout + result.stderr
    python = _make_variable("LAMBDA_PYTHON")
    assert RIE.is_file(), f"{RIE} is missing: run `make sam-venv`"
    return LambdaRuntime(python=python, ric_dir=RIC_DIR, rie=RIE)


@pytest.fixture(scope="session")
def invoke_module() -> ModuleType:
    """``events/invoke.py``, the runner behind `make invoke`."""
    spec = importlib.util.spec_from_file_location("events_invoke", ROOT / "events" / "invoke.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
