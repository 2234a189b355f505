"""The Knative container file: hadolint-clean, slim, never torch, and matching the manifest.

Building and running the image for real is ``make image-test`` (CI runs it after the suite); these
are the fast checks on the files that build it.
"""

from __future__ import annotations

import fnmatch
import os
import re
import tomllib
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from support import hadolint_findings

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPOSITORY_ROOT / "k8s-knative" / "Dockerfile"
DOCKERIGNORE = REPOSITORY_ROOT / ".dockerignore"
PYPROJECT = REPOSITORY_ROOT / "pyproject.toml"
SERVICE = REPOSITORY_ROOT / "k8s-knative" / "base" / "service.yaml"
#: Extras the image installs: `pip install ".[http]"`.
IMAGE_EXTRAS = {"http"}


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    pairs = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def test_hadolint_finds_nothing() -> None:
    assert hadolint_findings(DOCKERFILE) == ""


def test_every_stage_starts_from_python_311_slim() -> None:
    bases = [args.split()[0] for keyword, args in instructions() if keyword == "FROM"]
    assert len(bases) >= 2, "expected a multi-stage build"
    assert set(bases) == {"python:3.11-slim"}


def test_the_image_runs_the_http_server_as_the_manifests_numeric_user() -> None:
    service = next(doc for doc in yaml.safe_load_all(SERVICE.read_text(encoding="utf-8")) if doc)
    security = service["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    final_stage = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(final_stage) if keyword == "FROM")
    runtime = final_stage[last_from:]
    users = [args for keyword, args in runtime if keyword == "USER"]
    assert users == [f"{security['runAsUser']}:{security['runAsGroup']}"]
    assert security["runAsUser"] != 0
    commands = [args for keyword, args in runtime if keyword == "CMD"]
    assert commands == ['["python3", "-m", "nameorigin.server"]']
    assert ("EXPOSE", "8080") in runtime


def pip_install_targets() -> list[str]:
    """What every `pip install` in the Dockerfile installs (options dropped)."""
    targets: list[str] = []
    for keyword, args in instructions():
        if keyword != "RUN":
            continue
        for command in re.split(r"&&|;", args):
            words = command.split()
            if "pip" in " ".join(words[:1]) and words[1:2] == ["install"]:
                targets += [w.strip("\"'") for w in words[2:] if not w.startswith(("-", '"$'))]
    return targets


def test_the_image_installs_the_hashed_lock_then_only_the_package() -> None:
    assert pip_install_targets() == ["k8s-knative/requirements.txt", "."]
    installs = [
        command
        for keyword, args in instructions()
        if keyword == "RUN"
        for command in re.split(r"&&|;", args)
        if "pip install" in command
    ]
    assert "--require-hashes" in installs[0] and "--requirement" in installs[0]
    assert all("--no-deps" in command for command in installs)  # nothing resolved in the build
    assert not [args for _, args in instructions() if "torch" in args or "train" in args]


def requirement_closure(roots: list[Requirement], extras: set[str]) -> Iterator[str]:
    """Names of every distribution the roots pull in, walking the installed metadata."""
    seen: set[str] = set()
    pending = [(requirement, extras) for requirement in roots]
    while pending:
        requirement, active = pending.pop()
        if requirement.marker and not any(
            requirement.marker.evaluate({"extra": extra}) for extra in active | {""}
        ):
            continue
        name = requirement.name.lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        yield name
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            pytest.fail(f"{name} is not installed in the development environment")
        pending += [(Requirement(text), set(requirement.extras)) for text in requires]


def test_the_images_dependency_closure_has_no_torch() -> None:
    """`.[http]` and everything it depends on, transitively (installed metadata): never torch."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    roots = list(project["dependencies"])
    for extra in IMAGE_EXTRAS:
        roots += project["optional-dependencies"][extra]
    closure = set(requirement_closure([Requirement(text) for text in roots], set()))
    assert {"onnxruntime", "uvicorn", "aws-lambda-powertools", "aws-xray-sdk"} <= closure
    assert not {name for name in closure if "torch" in name}, sorted(closure)


def dockerignore_patterns() -> list[str]:
    return [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def ignored(relative: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        glob = pattern.removeprefix("!")
        globs = {glob, glob.removeprefix("**/")}
        if any(fnmatch.fnmatchcase(prefix, g) for prefix in prefixes for g in globs):
            excluded = not pattern.startswith("!")
    return excluded


def context_files() -> set[str]:
    """Repository files that .dockerignore lets into the build context."""
    patterns = dockerignore_patterns()
    reincluded = [pattern.removeprefix("!") for pattern in patterns if pattern.startswith("!")]
    kept: set[str] = set()
    for directory, subdirectories, files in os.walk(REPOSITORY_ROOT):
        base = Path(directory).relative_to(REPOSITORY_ROOT).as_posix().removeprefix(".")
        base = base.removeprefix("/")
        # Like docker: skip an excluded folder unless a `!` pattern may reach inside it.
        subdirectories[:] = [
            name
            for name in subdirectories
            if not ignored(f"{base}/{name}".lstrip("/"), patterns)
            or any(glob.startswith(f"{base}/{name}/".lstrip("/")) for glob in reincluded)
        ]
        kept |= {
            relative
            for relative in (f"{base}/{name}".lstrip("/") for name in files)
            if not ignored(relative, patterns)
        }
    return kept


def test_the_build_context_is_only_what_the_image_needs() -> None:
    kept = {path for path in context_files() if not path.startswith("build/")}
    assert {
        "pyproject.toml",
        "functions/nameorigin/config.py",
        "functions/nameorigin/server/__main__.py",
        "artifacts/manifest.json",
        "artifacts/model.onnx",
        "k8s-knative/bake_model.py",
    } <= kept
    leaked = {
        path
        for path in kept
        if path.split("/")[0] in {".git", "data", "training", "tests", ".venv", ".venv-sam"}
        or path.startswith(".venv")
        or "__pycache__" in path
    }
    assert leaked == set()
    size = sum((REPOSITORY_ROOT / path).stat().st_size for path in kept)
    model = (REPOSITORY_ROOT / "artifacts" / "model.onnx").stat().st_size
    assert size - model < 5 * 1024 * 1024, f"build context is {size} bytes ({model} the model)"
