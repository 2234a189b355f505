"""The pipeline graph, and ``python -m training.kubeflow.graph``: compile it to ``pipeline.yaml``.

data check → split → train → calibrate → export → parity → evaluate → gate → publish (``dsl.If``
the gate promotes) or refuse. ``make generate`` rewrites the committed ``pipeline.yaml``;
``tests/test_generated.py`` fails when it is stale.
"""

import tempfile
from pathlib import Path
from typing import NamedTuple

from kfp import compiler, dsl

from training.kubeflow import components

PIPELINE_NAME = "nameorigin-training"
COMPILED = Path(__file__).resolve().parent / "pipeline.yaml"


class Verdict(NamedTuple):
    """The pipeline's outputs: whether the candidate was promoted, and why."""

    promote: bool
    reason: str


@dsl.pipeline(
    name=PIPELINE_NAME,
    description="Train, verify and gate a nameorigin model; publish it if it is not worse.",
)
def training_pipeline(
    data_uri: str,
    publish_uri: str,
    incumbent_uri: str = "",
    config_json: str = "{}",
    force: bool = False,
    peer: bool = True,
    threads: int = 2,
    endpoint_url: str = "",
) -> Verdict:
    """``incumbent_uri`` empty: compare with ``<publish_uri>/latest`` (the last promoted)."""
    split = components.check_and_split(
        data_uri=data_uri, config_json=config_json, endpoint_url=endpoint_url
    )
    # The data behind a URI changes between runs (new data, weekly runs): never reuse a split.
    split.set_caching_options(False)
    trained = components.train_and_calibrate(
        corpus=split.outputs["corpus"], config_json=config_json, threads=threads
    )
    trained.set_cpu_limit("2").set_memory_limit("4G")
    exported = components.export(
        corpus=split.outputs["corpus"],
        checkpoint=trained.outputs["checkpoint"],
        config_json=config_json,
        threads=threads,
    )
    checked = components.parity(
        corpus=split.outputs["corpus"],
        checkpoint=trained.outputs["checkpoint"],
        exported=exported.outputs["exported"],
    )
    scored = components.evaluate(
        corpus=split.outputs["corpus"],
        checkpoint=trained.outputs["checkpoint"],
        exported=exported.outputs["exported"],
        parity_report=checked.outputs["parity_report"],
        peer=peer,
    )
    verdict = components.gate(
        corpus=split.outputs["corpus"],
        candidate=scored.outputs["candidate"],
        incumbent_uri=incumbent_uri,
        publish_uri=publish_uri,
        force=force,
        endpoint_url=endpoint_url,
    )
    # The incumbent may have changed since the last run: always judge again.
    verdict.set_caching_options(False)
    with dsl.If(verdict.outputs["promote"] == True, name="promoted"):  # noqa: E712
        components.publish(
            candidate=scored.outputs["candidate"],
            publish_uri=publish_uri,
            reason=verdict.outputs["reason"],
            endpoint_url=endpoint_url,
        )
    with dsl.Else(name="refused"):
        components.refuse(reason=verdict.outputs["reason"])
    return Verdict(promote=verdict.outputs["promote"], reason=verdict.outputs["reason"])


def compiled_text() -> str:
    """The IR YAML the compiler writes for :func:`training_pipeline` (what is committed)."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "pipeline.yaml"
        compiler.Compiler().compile(training_pipeline, str(path))
        return path.read_text("utf-8")


def main() -> None:
    """Rewrite the committed pipeline.yaml."""
    COMPILED.write_text(compiled_text(), "utf-8")
    print(f"wrote {COMPILED}")


if __name__ == "__main__":
    main()
