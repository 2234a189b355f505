"""The Knative Service, base and overlays: valid for Knative, and as docs/knative.md says."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from nameorigin.config import Settings
from nameorigin.server.app import METRICS_PATH

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
CONFIG_SOURCE = REPOSITORY_ROOT / "functions" / "nameorigin" / "config.py"
LIVENESS_PATH = "/v2/health/live"
READINESS_PATH = "/v2/health/ready"
Manifest = dict[str, Any]


def knative_errors(schema: dict[str, Any], service: Manifest) -> list[str]:
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(service)
    ]


def service_of(documents: list[Manifest]) -> Manifest:
    [service] = [doc for doc in documents if doc["kind"] == "Service"]
    return service


def container_of(service: Manifest) -> dict[str, Any]:
    [container] = service["spec"]["template"]["spec"]["containers"]
    return dict(container)


def annotations_of(service: Manifest) -> dict[str, str]:
    return dict(service["spec"]["template"]["metadata"]["annotations"])


@pytest.mark.parametrize("variant", ["base", "dev", "prod", "cluster-local"])
def test_every_variant_is_a_knative_service_the_crd_accepts(
    variant: str, rendered: dict[str, list[Manifest]], service_crd_schema: dict[str, Any]
) -> None:
    service = service_of(rendered[variant])
    assert service["apiVersion"] == "serving.knative.dev/v1"
    assert knative_errors(service_crd_schema, service) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        # Knative does not accept lifecycle hooks on its containers: the field is not in the CRD.
        (
            lambda c, s: c.update(lifecycle={"preStop": {"exec": {"command": ["true"]}}}),
            "lifecycle",
        ),
        (lambda c, s: c["securityContext"].update(runAsUserr=1), "runAsUserr"),
        (lambda c, s: s["spec"]["template"]["spec"].update(containerConcurrency="8"), "'8'"),
        (lambda c, s: c["readinessProbe"].update(periodSeconds="2s"), "'2s'"),
    ],
    ids=["lifecycle", "typo", "concurrency-type", "period-type"],
)
def test_the_validation_refuses_what_knative_would_refuse(
    mutate: Any, expected: str, base_service: Manifest, service_crd_schema: dict[str, Any]
) -> None:
    pod_spec = base_service["spec"]["template"]["spec"]
    mutate(pod_spec["containers"][0], base_service)
    errors = knative_errors(service_crd_schema, base_service)
    assert any(expected in error for error in errors), errors


def test_autoscaling_is_explicit_and_scales_to_zero_by_default(base_service: Manifest) -> None:
    annotations = annotations_of(base_service)
    assert annotations["autoscaling.knative.dev/class"] == "kpa.autoscaling.knative.dev"
    assert annotations["autoscaling.knative.dev/metric"] == "concurrency"
    assert annotations["autoscaling.knative.dev/min-scale"] == "0"
    target = int(annotations["autoscaling.knative.dev/target"])
    max_scale = int(annotations["autoscaling.knative.dev/max-scale"])
    hard_limit = base_service["spec"]["template"]["spec"]["containerConcurrency"]
    assert 1 <= target <= hard_limit, "the soft target must fit under the hard limit"
    assert max_scale >= 1


def test_overlays_change_only_what_differs_between_environments(
    rendered: dict[str, list[Manifest]],
) -> None:
    dev, prod = service_of(rendered["dev"]), service_of(rendered["prod"])
    assert annotations_of(dev)["autoscaling.knative.dev/min-scale"] == "0"
    assert annotations_of(prod)["autoscaling.knative.dev/min-scale"] == "1"
    assert int(annotations_of(prod)["autoscaling.knative.dev/max-scale"]) > int(
        annotations_of(dev)["autoscaling.knative.dev/max-scale"]
    )
    assert dev["metadata"]["namespace"] != prod["metadata"]["namespace"]
    assert container_of(dev)["image"].endswith(":dev")
    assert container_of(prod)["image"] != container_of(dev)["image"]
    base = container_of(service_of(rendered["base"]))
    for variant in (dev, prod):
        container = container_of(variant)
        # What the image contract depends on is never overridden per environment.
        for field in ("ports", "readinessProbe", "livenessProbe", "securityContext"):
            assert container[field] == base[field], field


VISIBILITY_LABEL = "networking.knative.dev/visibility"


def test_the_cluster_local_overlay_is_prod_without_an_external_route(
    rendered: dict[str, list[Manifest]],
) -> None:
    internal, prod = service_of(rendered["cluster-local"]), service_of(rendered["prod"])

    assert internal["metadata"]["labels"][VISIBILITY_LABEL] == "cluster-local"
    for variant in ("base", "dev", "prod"):  # public unless asked otherwise
        assert VISIBILITY_LABEL not in service_of(rendered[variant])["metadata"].get("labels", {})
    del internal["metadata"]["labels"][VISIBILITY_LABEL]
    assert internal == prod
    others = [doc for doc in rendered["cluster-local"] if doc["kind"] != "Service"]
    assert others == [doc for doc in rendered["prod"] if doc["kind"] != "Service"]


def test_probes_use_the_servers_port_and_health_routes(base_service: Manifest) -> None:
    container = container_of(base_service)
    [port] = container["ports"]
    assert port["containerPort"] == Settings.http_port
    assert port["name"] == "http1"
    assert container["readinessProbe"]["httpGet"] == {"path": READINESS_PATH, "port": 8080}
    assert container["livenessProbe"]["httpGet"] == {"path": LIVENESS_PATH, "port": 8080}
    assert METRICS_PATH not in (READINESS_PATH, LIVENESS_PATH)


def test_the_container_runs_locked_down(base_service: Manifest) -> None:
    context = container_of(base_service)["securityContext"]
    assert context["runAsNonRoot"] is True
    assert isinstance(context["runAsUser"], int) and context["runAsUser"] > 0
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}


def test_a_read_only_root_still_has_a_scratch_tmp_for_batch_spools(base_service: Manifest) -> None:
    # nameorigin.batch.writer spools results with tempfile: /tmp in a container without TMPDIR.
    container = container_of(base_service)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
    volumes = {v["name"]: v for v in base_service["spec"]["template"]["spec"]["volumes"]}
    assert "emptyDir" in volumes[mount["name"]]
    assert mount.get("readOnly", False) is False


def quantity(value: str) -> float:
    units = {"m": 1e-3, "": 1.0, "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30}
    match = re.fullmatch(r"([0-9.]+)(m|Ki|Mi|Gi|)", str(value))
    assert match, value
    return float(match.group(1)) * units[match.group(2)]


@pytest.mark.parametrize("variant", ["base", "dev", "prod", "cluster-local"])
def test_resources_request_no_more_than_their_limits(
    variant: str, rendered: dict[str, list[Manifest]]
) -> None:
    resources = container_of(service_of(rendered[variant]))["resources"]
    for name in ("cpu", "memory"):
        assert quantity(resources["requests"][name]) <= quantity(resources["limits"][name]), name


@pytest.mark.parametrize("variant", ["base", "dev", "prod"])
def test_one_http_worker_per_core_of_the_cpu_limit(
    variant: str, rendered: dict[str, list[Manifest]]
) -> None:
    container = container_of(service_of(rendered[variant]))
    env = {item["name"]: item["value"] for item in container["env"]}
    settings = Settings.from_environ(env)
    cores = quantity(container["resources"]["limits"]["cpu"])
    # more workers than cores would time-slice single names; fewer would idle a core
    assert settings.http_workers == max(1, math.floor(cores)), (settings.http_workers, cores)


def test_environment_names_only_settings_the_service_reads(base_service: Manifest) -> None:
    names = [item["name"] for item in container_of(base_service)["env"]]
    assert "PORT" not in names, "Knative sets PORT itself and rejects a manifest that sets it"
    config_source = CONFIG_SOURCE.read_text(encoding="utf-8")
    for name in names:
        if name.startswith("NAMEORIGIN_"):
            assert f'"{name}"' in config_source, f"{name} is not read in nameorigin/config.py"
    Settings.from_environ(
        {item["name"]: item["value"] for item in container_of(base_service)["env"]}
    )
