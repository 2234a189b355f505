"""What every route needs (settings, the model store, telemetry) and the checks routes share.

Each entry point builds one ``Dependencies`` and passes it to ``create_resolver``, which hands it to
every router factory: nothing here is module-level state, so two resolvers with different settings
(a test, the Knative server) never see each other's limits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from time import perf_counter
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from nameorigin.config import Settings
from nameorigin.core.classifier import Classifier, Outcome, Prediction, Rejection
from nameorigin.core.model_store import ModelStore
from nameorigin.routes.errors import ApiError, invalid, unprocessable
from nameorigin.routes.schemas import ErrorDetail
from nameorigin.routes.telemetry import UNMATCHED, NoTelemetry, Telemetry

#: The model's name in the Open Inference Protocol routes (``/v2/models/nameorigin/...``).
MODEL_NAME = "nameorigin"
#: How many bad entries a 422 lists before it stops (the count is always in the message).
MAX_LISTED_ERRORS = 100

Location = list[str | int]


@dataclass(frozen=True)
class Dependencies:
    """The settings in force, the model store and where reports go, for one resolver."""

    settings: Settings
    models: ModelStore
    telemetry: Telemetry = field(default_factory=NoTelemetry)

    def classify(
        self, route: str, names: Sequence[str], top_k: int, top_k_at: Location
    ) -> list[Outcome]:
        """Run the model once for all names and report it; k beyond the labels is a 422 at
        ``top_k_at``."""
        classifier = self.models.current()
        check_top_k(classifier, top_k, top_k_at)
        started = perf_counter()
        outcomes = classifier.classify(names, top_k)
        elapsed = perf_counter() - started
        self.telemetry.model_latency(route, elapsed)
        self.telemetry.names_classified(
            route, sum(isinstance(outcome, Prediction) for outcome in outcomes)
        )
        return outcomes

    def check_batch_size(self, count: int, location: Location) -> None:
        """422 when a request carries more names than ``max_batch_names``."""
        limit = self.settings.max_batch_names
        if count > limit:
            raise unprocessable(
                [invalid(location, f"{count} names sent; the limit is {limit}", "too_many_names")]
            )


def matched_route(router: BaseRouter) -> str:
    """The template of the route Powertools matched for the current request."""
    route = router.context.get("_route")
    return str(route.path) if route is not None else UNMATCHED


def check_top_k(classifier: Classifier, top_k: int, location: Location) -> None:
    """422 (pydantic's wording) when k exceeds the model's label count: the manifest's bound."""
    bound = len(classifier.labels)
    if top_k > bound:
        raise unprocessable(
            [invalid(location, f"Input should be less than or equal to {bound}", "less_than_equal")]
        )


def only_predictions(
    outcomes: Sequence[Outcome], location: Callable[[int], Location]
) -> list[Prediction]:
    """All predictions, or a 422 naming every rejected name by its location in the request."""
    rejected = [(i, o) for i, o in enumerate(outcomes) if isinstance(o, Rejection)]
    if rejected:
        details = [invalid(location(i), o.message, o.reason.value) for i, o in rejected]
        raise unprocessable(capped(details))
    return [o for o in outcomes if isinstance(o, Prediction)]


def capped(details: list[ErrorDetail]) -> list[ErrorDetail]:
    """At most ``MAX_LISTED_ERRORS`` details, plus one saying how many were left out."""
    if len(details) <= MAX_LISTED_ERRORS:
        return details
    extra = len(details) - MAX_LISTED_ERRORS
    note = invalid(["body"], f"{extra} more errors not listed", "truncated")
    return [*details[:MAX_LISTED_ERRORS], note]


def check_model_name(model: str) -> None:
    """404 for any model but the one this server has."""
    if model != MODEL_NAME:
        raise ApiError(
            HTTPStatus.NOT_FOUND,
            "model_not_found",
            f"unknown model {model!r}; this server serves {MODEL_NAME!r}",
            [invalid(["path", "model"], f"must be {MODEL_NAME!r}", "model_not_found")],
        )


def json_response(status: int, body: Any) -> Response[Any]:
    """A JSON answer with an explicit status (readiness answers 503 with a body)."""
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)
