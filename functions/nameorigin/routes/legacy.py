"""The old FastAPI service's contract, unchanged: GET /check_service and POST /get_prediction."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from nameorigin.routes.dependencies import Dependencies, matched_route, only_predictions
from nameorigin.routes.errors import BODY_ERRORS, responses
from nameorigin.routes.schemas import (
    CheckServiceResponse,
    GetPredictionRequest,
    GetPredictionResponse,
)


def create_router(deps: Dependencies) -> Router:
    """The legacy routes, bound to one resolver's dependencies."""
    router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped

    @router.get("/check_service", tags=["legacy"], summary="Liveness, as the old service said it")
    def check_service() -> CheckServiceResponse:
        """Always ``{"Message": "Hello world from service"}`` (the old body), model or not."""
        return CheckServiceResponse()

    @router.post(
        "/get_prediction",
        tags=["legacy"],
        summary="Top labels of one name (old contract; log-probabilities)",
        responses=responses("Labels and natural-log probabilities, best first.", *BODY_ERRORS),
    )
    def get_prediction(
        request: Annotated[GetPredictionRequest, Body(embed=False)],
    ) -> GetPredictionResponse:
        """The old service's answer. ``probabilities`` are natural-log probabilities (<= 0)."""
        (outcome,) = deps.classify(
            matched_route(router), [request.name], request.n_predictions, ["body", "n_predictions"]
        )
        (prediction,) = only_predictions([outcome], lambda _: ["body", "name"])
        return GetPredictionResponse(
            predictions=list(prediction.labels),
            probabilities=list(prediction.log_probabilities),
        )

    return router
