"""The image tests' own logic: the manifest → podman translation, and baking the model.

``make image-test`` runs the real container; these check, without podman, that it would run it
with the manifest's settings and that nothing it cannot reproduce is silently dropped.
"""

from __future__ import annotations

import copy
import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import knative_container
import pytest
import yaml

from nameorigin.core.manifest import ArtifactError

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
BASE_SERVICE = REPOSITORY_ROOT / "k8s-knative" / "base" / "service.yaml"


def load_script(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


bake_model = load_script(REPOSITORY_ROOT / "k8s-knative/bake_model.py", "bake_model")


@pytest.fixture
def service() -> dict[str, Any]:
    document: dict[str, Any] = copy.deepcopy(knative_container.knative_service(BASE_SERVICE))
    return document


def container_of(service: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = service["spec"]["template"]["spec"]["containers"][0]
    return container


def test_the_base_manifests_security_settings_become_podman_options(
    service: dict[str, Any],
) -> None:
    options = knative_container.container_spec(service).podman_options
    joined = " ".join(options)
    security = container_of(service)["securityContext"]
    assert f"--user {security['runAsUser']}:{security['runAsGroup']}" in joined
    assert "--read-only --read-only-tmpfs=false" in joined
    assert "--security-opt no-new-privileges" in joined
    assert "--cap-drop ALL" in joined
    assert "--cap-add" not in joined


def test_the_manifests_env_and_knatives_own_variables_are_passed(service: dict[str, Any]) -> None:
    spec = knative_container.container_spec(service)
    for variable in container_of(service)["env"]:
        assert spec.env[variable["name"]] == variable["value"]
    assert spec.env["PORT"] == "8080"
    assert spec.env["K_SERVICE"] == service["metadata"]["name"]
    assert spec.ready_path == "/v2/health/ready"
    assert spec.live_path == "/v2/health/live"


def test_the_container_is_published_on_loopback_only(service: dict[str, Any]) -> None:
    spec = knative_container.container_spec(service)
    argv = knative_container.podman_run_command(spec, "img", "ctr", 18080, "run-1")
    published = argv[argv.index("--publish") + 1]
    assert published == "127.0.0.1:18080:8080"
    assert argv[-1] == "img"
    assert f"{knative_container.RUN_LABEL}=run-1" in argv


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_an_overlay_folder_is_rendered_by_kustomize(overlay: str) -> None:
    service = knative_container.knative_service(
        REPOSITORY_ROOT / "k8s-knative" / "overlays" / overlay
    )
    spec = knative_container.container_spec(service)
    for variable in container_of(service)["env"]:
        assert spec.env[variable["name"]] == variable["value"]
    assert "--read-only" in spec.podman_options


@pytest.mark.parametrize(
    ("quantity", "expected"), [("1", "1"), ("500m", "0.5"), ("2", "2"), (1.5, "1.5")]
)
def test_cpu_limits(quantity: str | float, expected: str) -> None:
    assert knative_container.cpu_limit(quantity) == expected


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [("512Mi", "536870912b"), ("1Gi", "1073741824b"), ("128M", "128000000b"), ("1024", "1024b")],
)
def test_memory_limits(quantity: str, expected: str) -> None:
    assert knative_container.memory_limit(quantity) == expected


def test_a_security_setting_it_cannot_reproduce_is_an_error(service: dict[str, Any]) -> None:
    container_of(service)["securityContext"]["procMount"] = "Unmasked"
    with pytest.raises(knative_container.ManifestError, match="procMount"):
        knative_container.container_spec(service)


def test_env_from_a_secret_is_an_error(service: dict[str, Any]) -> None:
    container_of(service)["env"].append(
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
    )
    with pytest.raises(knative_container.ManifestError, match="TOKEN"):
        knative_container.container_spec(service)


def test_run_as_non_root_without_a_user_is_an_error(service: dict[str, Any]) -> None:
    del container_of(service)["securityContext"]["runAsUser"]
    with pytest.raises(knative_container.ManifestError, match="runAsNonRoot"):
        knative_container.container_spec(service)


def test_an_empty_dir_volume_becomes_a_tmpfs(service: dict[str, Any]) -> None:
    service["spec"]["template"]["spec"]["volumes"] = [{"name": "scratch", "emptyDir": {}}]
    container_of(service)["volumeMounts"] = [{"name": "scratch", "mountPath": "/tmp"}]
    options = knative_container.container_spec(service).podman_options
    assert options[options.index("--tmpfs") + 1] == "/tmp"


def test_the_manifest_must_not_set_port(service: dict[str, Any]) -> None:
    container_of(service)["env"].append({"name": "PORT", "value": "9000"})
    with pytest.raises(knative_container.ManifestError, match="PORT"):
        knative_container.container_spec(service)


def test_a_file_without_a_knative_service_is_an_error(tmp_path: Path) -> None:
    manifest = tmp_path / "other.yaml"
    manifest.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap"}))
    with pytest.raises(knative_container.ManifestError, match="no serving"):
        knative_container.knative_service(manifest)


def test_answers_compare_floats_within_tolerance_and_everything_else_exactly() -> None:
    expected = {"predictions": ["English", "Irish"], "probabilities": [-1.24, -1.91]}
    assert knative_container.same_json(
        {"predictions": ["English", "Irish"], "probabilities": [-1.2400000001, -1.91]}, expected
    )
    assert not knative_container.same_json(
        {"predictions": ["Irish", "English"], "probabilities": [-1.24, -1.91]}, expected
    )
    assert not knative_container.same_json({"predictions": ["English", "Irish"]}, expected)
    assert not knative_container.same_json(
        {"predictions": ["English", "Irish"], "probabilities": [-1.3, -1.91]}, expected
    )
    assert not knative_container.same_json(1, True)


def test_the_synthetic_batch_is_deterministic() -> None:
    names = knative_container.synthetic_names(50)
    assert names == knative_container.synthetic_names(50)
    assert len(set(names)) > 40
    assert all(name.isalpha() for name in names)


def test_bake_copies_the_checked_model(committed_model_dir: Path, tmp_path: Path) -> None:
    copied = bake_model.bake(committed_model_dir, tmp_path / "model")
    assert sorted(path.name for path in copied) == ["manifest.json", "model.onnx"]
    assert (tmp_path / "model" / "model.onnx").read_bytes() == (
        committed_model_dir / "model.onnx"
    ).read_bytes()


def test_bake_refuses_a_model_that_does_not_match_its_manifest(
    committed_model_dir: Path, tmp_path: Path
) -> None:
    artifacts = tmp_path / "artifacts"
    shutil.copytree(committed_model_dir, artifacts)
    with (artifacts / "model.onnx").open("ab") as model:
        model.write(b"\0")
    with pytest.raises(ArtifactError, match="sha256"):
        bake_model.bake(artifacts, tmp_path / "model")
