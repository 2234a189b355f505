"""Bake the model into the installed ``nameorigin`` package, then prove the image can serve it.

Runs inside the image build (k8s-knative/Dockerfile) with the image's own interpreter:
``python bake_model.py ARTIFACTS_DIR``. It copies the manifest and the model file it names into
``<installed package>/nameorigin/model/``, the first place ``default_model_dir()`` looks, and fails
the build if that directory is not the one the service will read, if the model does not classify a
name, or if torch or the training code made it into the environment.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

from nameorigin.config import BUNDLED_MODEL_DIR, Settings
from nameorigin.core.classifier import Classifier, Prediction
from nameorigin.core.manifest import MANIFEST_FILE, load_manifest

#: Modules that must never be importable in the serving image.
FORBIDDEN_MODULES = ("torch", "training")


def bake(artifacts: Path, destination: Path = BUNDLED_MODEL_DIR) -> list[Path]:
    """Copy the manifest and its model (sha256-checked on both ends) into ``destination``."""
    manifest = load_manifest(artifacts)
    destination.mkdir(parents=True, exist_ok=True)
    copied = [
        Path(shutil.copyfile(artifacts / name, destination / name))
        for name in (MANIFEST_FILE, manifest.model_file)
    ]
    load_manifest(destination)
    return copied


def check_serving_environment() -> str:
    """Raise SystemExit unless the default settings load the baked model and torch is absent."""
    settings = Settings.from_environ({})
    if settings.model_dir != BUNDLED_MODEL_DIR:
        raise SystemExit(f"the service would read {settings.model_dir}, not {BUNDLED_MODEL_DIR}")
    present = [name for name in FORBIDDEN_MODULES if importlib.util.find_spec(name) is not None]
    if present:
        raise SystemExit(f"the serving image must not contain {present}")
    classifier = Classifier.load(settings.model_dir)
    outcome = classifier.classify(["Jordan"], top_k=1)[0]
    if not isinstance(outcome, Prediction):
        raise SystemExit(f"the baked model rejected a plain name: {outcome}")
    return f"model {classifier.manifest.model_version} baked into {BUNDLED_MODEL_DIR}"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} ARTIFACTS_DIR", file=sys.stderr)
        return 2
    bake(Path(argv[1]))
    print(check_serving_environment())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
