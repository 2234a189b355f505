"""``GET /model``: which model answers, where it came from, and the limits in force."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from nameorigin.routes.dependencies import Dependencies
from nameorigin.routes.errors import responses
from nameorigin.routes.schemas import Limits, ModelMetadataResponse


def create_router(deps: Dependencies) -> Router:
    """The metadata route, bound to one resolver's dependencies."""
    router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped

    @router.get(
        "/model",
        tags=["model"],
        summary="The served model: version, sha256, labels, metrics, limits",
        responses=responses("The loaded model's manifest and the limits.", 503),
    )
    def model_metadata() -> ModelMetadataResponse:
        """What the manifest says about the loaded model, and this deployment's limits."""
        classifier = deps.models.current()
        manifest = classifier.manifest
        return ModelMetadataResponse(
            model_version=manifest.model_version,
            model_sha256=manifest.model_sha256,
            data_sha256=manifest.data_sha256,
            created_at=manifest.created_at.isoformat(),
            labels=list(manifest.labels),
            metrics=manifest.metrics,
            limits=Limits(
                max_name_length=classifier.max_name_length,
                max_batch_names=deps.settings.max_batch_names,
                max_body_bytes=deps.settings.max_body_bytes,
                max_top_k=len(classifier.labels),
            ),
        )

    return router
