"""`sam build` output: torch-free, within the size budget, model bundled where config finds it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from nameorigin.config import REPOSITORY_MODEL_DIR
from nameorigin.core.manifest import sha256_of_file

from .conftest import LambdaRuntime, SamBuild, load_template

#: Target from the issue (Lambda's own limit for an unzipped package is 250 MB).
MAX_UNZIPPED_MIB = 170


def tree_size(folder: Path) -> int:
    """Bytes of every regular file below ``folder`` (what Lambda unzips)."""
    return sum(
        path.stat().st_size
        for path in folder.rglob("*")
        if path.is_file() and not path.is_symlink()
    )


def test_built_function_is_torch_free(sam_build: SamBuild) -> None:
    package = sam_build.api_function

    assert not (package / "torch").exists()
    assert not list(package.glob("torch-*.dist-info"))
    assert (package / "onnxruntime").is_dir()


def test_built_function_fits_the_size_budget(sam_build: SamBuild) -> None:
    size_mib = tree_size(sam_build.api_function) / 2**20

    assert size_mib <= MAX_UNZIPPED_MIB, f"{size_mib:.1f} MiB unzipped"


def test_model_is_bundled_byte_for_byte(sam_build: SamBuild) -> None:
    bundled = sam_build.api_function / "nameorigin" / "model"

    for name in ("model.onnx", "manifest.json"):
        assert sha256_of_file(bundled / name) == sha256_of_file(REPOSITORY_MODEL_DIR / name)


def test_imported_modules_ship_precompiled_for_the_lambda_python(sam_build: SamBuild) -> None:
    package = sam_build.api_function

    for module in ("nameorigin/api/handler", "nameorigin/core/classifier", "numpy/__init__"):
        source = package / f"{module}.py"
        cached = source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc"
        assert cached.is_file(), f"{cached} is missing: cold starts would compile it"


def test_built_template_points_at_the_built_package(sam_build: SamBuild) -> None:
    built = load_template(sam_build.build_dir / "template.yaml")

    assert built["Resources"]["ApiFunction"]["Properties"]["CodeUri"] == "ApiFunction"


def test_built_package_finds_its_bundled_model_under_the_lambda_python(
    sam_build: SamBuild, lambda_runtime: LambdaRuntime
) -> None:
    code = "from nameorigin.config import default_model_dir; print(default_model_dir())"

    result = subprocess.run(
        [lambda_runtime.python, "-c", code],
        cwd=sam_build.api_function,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(sam_build.api_function)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == sam_build.api_function / "nameorigin" / "model"
