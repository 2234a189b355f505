"""``POST /predict``: many names in one request, results in input order."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from nameorigin.routes.dependencies import Dependencies, matched_route, only_predictions
from nameorigin.routes.errors import BODY_ERRORS, responses
from nameorigin.routes.schemas import NameResult, PredictRequest, PredictResponse


def create_router(deps: Dependencies) -> Router:
    """The batch route, bound to one resolver's dependencies."""
    router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped

    @router.post(
        "/predict",
        tags=["predict"],
        summary="Top labels of many names, in input order",
        responses=responses("One result per name, in input order.", *BODY_ERRORS),
    )
    def predict(request: Annotated[PredictRequest, Body(embed=False)]) -> PredictResponse:
        """One result per name in input order; one invalid name makes the whole request a 422."""
        deps.check_batch_size(len(request.names), ["body", "names"])
        outcomes = deps.classify(
            matched_route(router), request.names, request.top_k, ["body", "top_k"]
        )
        predictions = only_predictions(outcomes, lambda i: ["body", "names", i])
        return PredictResponse(
            model_version=deps.models.current().manifest.model_version,
            results=[
                NameResult(
                    name=p.name,
                    labels=list(p.labels),
                    probabilities=list(p.probabilities),
                    log_probabilities=list(p.log_probabilities),
                )
                for p in predictions
            ],
        )

    return router
