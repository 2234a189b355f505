"""Every generated file the repository commits matches what ``make generate`` would write now.

The README's layout table lists them; a stale one fails here with the command that fixes it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nameorigin.tooling.generate import REPOSITORY, generated_files
from training.kubeflow.graph import COMPILED, compiled_text
from training.schema import SCHEMA_FILE, manifest_schema_text

EXPECTED = {
    **{path.relative_to(REPOSITORY).as_posix(): text for path, text in generated_files().items()},
    f"artifacts/{SCHEMA_FILE}": manifest_schema_text(),
    COMPILED.relative_to(REPOSITORY).as_posix(): compiled_text(),
}


def test_the_generated_set_is_the_one_the_readme_lists() -> None:
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    for relative in EXPECTED:
        assert f"`{relative}`" in readme, f"README's layout table does not list {relative}"


@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_the_committed_file_is_up_to_date(relative: str) -> None:
    committed = (REPOSITORY / relative).read_text(encoding="utf-8")

    assert committed == EXPECTED[relative], f"{relative} is stale: run `make generate`"


def test_the_generator_writes_only_into_the_checkout() -> None:
    assert all(Path(path).is_relative_to(REPOSITORY) for path in generated_files())
