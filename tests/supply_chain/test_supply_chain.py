"""The supply chain: hashed locks, the audit's verdicts, CycloneDX SBOMs that match the locks."""

from __future__ import annotations

import importlib.util
import json
import stat
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from locks import IMAGE_LOCK, LAMBDA_LOCK, ROOT, canonical, read_lock
from packaging.requirements import Requirement

CYCLONEDX = Path(sys.executable).parent / "cyclonedx-py"
AUDIT_SCRIPT = ROOT / ".ci" / "audit.py"


def pins(section: list[str]) -> dict[str, str]:
    result = {}
    for requirement in map(Requirement, section):
        (pinned,) = requirement.specifier
        result[canonical(requirement.name)] = pinned.version
    return result


def test_every_locked_distribution_is_an_exact_pin_with_hashes() -> None:
    for lock in (LAMBDA_LOCK, IMAGE_LOCK):
        locked = read_lock(lock)
        assert len(locked) > 10, lock
        for name, (version, hashes) in locked.items():
            assert version and hashes, f"{lock.name}: {name} has no sha256"


def test_the_image_lock_is_the_lambda_lock_plus_the_http_extra_at_the_same_versions() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lambda_lock, image_lock = read_lock(LAMBDA_LOCK), read_lock(IMAGE_LOCK)

    for name, version in pins(project["optional-dependencies"]["http"]).items():
        assert image_lock[name][0] == version, name
    for name, (version, _) in lambda_lock.items():
        assert image_lock[name][0] == version, name
    assert "uvicorn" not in lambda_lock and "uvicorn" in image_lock
    assert not [name for name in image_lock if "torch" in name]


@pytest.mark.parametrize("lock", [LAMBDA_LOCK, IMAGE_LOCK], ids=["lambda", "image"])
def test_the_sbom_lists_exactly_the_locked_distributions(lock: Path, tmp_path: Path) -> None:
    output = tmp_path / "sbom.cdx.json"
    done = subprocess.run(
        [str(CYCLONEDX), "requirements", "--pyproject", str(ROOT / "pyproject.toml"),
         "--output-reproducible", "--output-file", str(output), str(lock)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    sbom = json.loads(output.read_text(encoding="utf-8"))

    assert sbom["bomFormat"] == "CycloneDX"
    assert sbom["metadata"]["component"]["name"] == "nameorigin"
    listed = {canonical(c["name"]): c["version"] for c in sbom["components"]}
    assert listed == {name: version for name, (version, _) in read_lock(lock).items()}
    assert all(
        reference["hashes"] for c in sbom["components"] for reference in c["externalReferences"]
    )
    assert all(c["purl"].startswith("pkg:pypi/") for c in sbom["components"])


def load_audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ci_audit", AUDIT_SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_pip_audit(tmp_path: Path, report: str, exit_code: int = 0) -> Path:
    """An executable that prints ``report`` the way ``pip-audit --format json`` would."""
    script = tmp_path / "pip-audit"
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{report}\nEOF\nexit {exit_code}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


@pytest.mark.parametrize(
    ("report", "strict", "exit_code", "says"),
    [
        ('{"dependencies": [{"name": "a", "version": "1", "vulns": []}]}', False, 0,
         "every locked package audited"),
        ('{"dependencies": [{"name": "a", "skip_reason": "Dependency not found on PyPI"}]}',
         False, 0, "NOT AUDITED"),
        ('{"dependencies": [{"name": "a", "skip_reason": "Dependency not found on PyPI"}]}',
         True, 2, "NOT AUDITED"),
        ("", False, 0, "NOT AUDITED: pip-audit failed"),
        ('{"dependencies": [{"name": "a", "version": "1", "vulns": [{"id": "PYSEC-1", '
         '"fix_versions": ["2"]}]}]}', False, 1, "AUDIT FAILED"),
    ],
    ids=["clean", "unreachable-warns", "unreachable-strict-fails", "no-answer", "vulnerable"],
)  # fmt: skip
def test_the_audit_never_passes_silently(
    report: str,
    strict: bool,
    exit_code: int,
    says: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    audit = load_audit()
    monkeypatch.setattr(audit, "PIP_AUDIT", fake_pip_audit(tmp_path, report))
    if strict:
        monkeypatch.setenv("AUDIT_STRICT", "1")
    else:
        monkeypatch.delenv("AUDIT_STRICT", raising=False)

    assert audit.main([str(LAMBDA_LOCK)]) == exit_code
    assert says in capsys.readouterr().out
