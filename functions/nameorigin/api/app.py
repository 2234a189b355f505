"""Every HTTP route of nameorigin, on one Powertools resolver shared by both HTTP front doors.

The Lambda handler (``nameorigin.api.handler``) and the Knative process (``nameorigin.http``) both
call ``app.resolve(event, context)`` with an API Gateway REST (v1) proxy event, so the routes,
status codes and JSON bodies are identical behind API Gateway and behind Knative.

Importing this module does NOT load the model: routes fetch it from ``model_store.current()``, and
answer 503 (JSON) while there is none.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from http import HTTPStatus
from time import perf_counter
from typing import Annotated, Any, TypeVar, cast

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from nameorigin import model_store
from nameorigin.api import errors, telemetry
from nameorigin.api.errors import ApiError, invalid, unprocessable
from nameorigin.api.schemas import (
    DEFAULT_TOP_K,
    LABEL_COUNT,
    CheckServiceResponse,
    ErrorDetail,
    ErrorResponse,
    GetPredictionRequest,
    GetPredictionResponse,
    Limits,
    ModelMetadataResponse,
    NameResult,
    PredictRequest,
    PredictResponse,
    V2InferenceRequest,
    V2InferenceResponse,
    V2ModelMetadataResponse,
    V2ReadyResponse,
    V2ResponseOutput,
    V2ServerLiveResponse,
    V2ServerMetadataResponse,
    V2TensorMetadata,
)
from nameorigin.config import Settings
from nameorigin.core.classifier import Outcome, Prediction, Rejection

#: Version of this API (OpenAPI document, v2 server metadata); the model has its own version.
API_VERSION = "0.1.0"
#: The model's name in the Open Inference Protocol routes (``/v2/models/nameorigin/...``).
MODEL_NAME = "nameorigin"
#: Output tensors of ``/v2/models/nameorigin/infer``, each shaped ``[names, top_k]``.
V2_OUTPUTS: Mapping[str, str] = {
    "labels": "BYTES",
    "probabilities": "FP32",
    "log_probabilities": "FP32",
}
V2_INPUT = "names"
#: How many bad entries a 422 lists before it stops (the count is always in the message).
MAX_LISTED_ERRORS = 100

F = TypeVar("F", bound=Callable[..., Any])


# -- settings ---------------------------------------------------------------------------------


_settings: list[Settings] = []


def current_settings() -> Settings:
    """The limits in force: ``configure``'s settings, else the environment's (read once)."""
    if not _settings:
        _settings.append(Settings.from_environ())
    return _settings[0]


def configure(settings: Settings) -> None:
    """Enforce these settings' limits from now on (tests, adapters); the model keeps its own."""
    _settings[:] = [settings]


def _parse_body(text: str) -> Any:
    return errors.json_body_parser(current_settings().max_body_bytes)(text)


# -- the resolver -----------------------------------------------------------------------------


class NameOriginResolver(APIGatewayRestResolver):
    """The Powertools REST resolver, plus one ``request_finished`` report per request."""

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        """Route the event (see ``APIGatewayRestResolver.resolve``) and report the outcome."""
        started = perf_counter()
        response = super().resolve(event, context)
        path = str(event.get("path") or "")
        telemetry.current().request_finished(
            route_of_path(path),
            str(event.get("httpMethod") or "").upper(),
            int(response.get("statusCode", 0)),
            perf_counter() - started,
        )
        return response


app = NameOriginResolver(enable_validation=True, json_body_deserializer=_parse_body)

#: Route template -> the methods it serves (for 405 and for telemetry's route names).
ROUTES: dict[str, list[str]] = {}

#: What each error status means, for the OpenAPI document (the body is always ErrorResponse).
ERROR_MEANINGS = {
    400: "The body is not JSON (or not UTF-8).",
    404: "Unknown model name.",
    413: "The body is larger than NAMEORIGIN_MAX_BODY_BYTES.",
    415: "The body is not application/json.",
    422: "The JSON does not describe a valid request (details in `detail`).",
    503: "The model is not loaded (yet, or it failed to load).",
}
BODY_ERRORS = (400, 413, 415, 422, 503)


def responses(success: str, *error_statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI ``responses``: 200 with the route's return schema, plus these error statuses."""
    documented: dict[int, dict[str, Any]] = {200: {"description": success}}
    for status in error_statuses:
        documented[status] = {
            "description": ERROR_MEANINGS[status],
            "content": {content_types.APPLICATION_JSON: {"model": ErrorResponse}},
        }
    return cast(dict[int, OpenAPIResponse], documented)


def route(method: str, template: str, **options: Any) -> Callable[[F], F]:
    """``app.route`` that also records the template, so 405 and telemetry know every route."""
    ROUTES.setdefault(template, []).append(method)

    def register(function: F) -> F:
        app.route(template, method=method, **options)(function)
        return function

    return register


@functools.cache
def _patterns() -> list[tuple[str, Any]]:
    return [(template, errors.template_pattern(template)) for template in ROUTES]


def route_of_path(path: str) -> str:
    """The route template serving ``path``, or ``telemetry.UNMATCHED``."""
    for template, pattern in _patterns():
        if pattern.match(path):
            return template
    return telemetry.UNMATCHED


def allowed_methods(path: str) -> list[str]:
    """The methods some route serves on ``path`` (empty: no route has this path)."""
    template = route_of_path(path)
    return sorted(ROUTES.get(template, []))


def _current_route() -> str:
    return route_of_path(app.current_event.path)


errors.install(app, _current_route, allowed_methods)


# -- shared helpers ---------------------------------------------------------------------------


def _classify(names: Sequence[str], top_k: int) -> list[Outcome]:
    """Run the model once for all names and report how long it took."""
    classifier = model_store.current()
    started = perf_counter()
    outcomes = classifier.classify(names, top_k)
    elapsed = perf_counter() - started
    report = telemetry.current()
    route_name = _current_route()
    report.model_latency(route_name, elapsed)
    report.names_classified(route_name, sum(isinstance(o, Prediction) for o in outcomes))
    return outcomes


def _only_predictions(
    outcomes: Sequence[Outcome], location: Callable[[int], list[str | int]]
) -> list[Prediction]:
    """All predictions, or a 422 naming every rejected name by its location in the request."""
    rejected = [(i, o) for i, o in enumerate(outcomes) if isinstance(o, Rejection)]
    if rejected:
        details = [invalid(location(i), o.message, o.reason.value) for i, o in rejected]
        raise unprocessable(_capped(details))
    return [o for o in outcomes if isinstance(o, Prediction)]


def _capped(details: list[ErrorDetail]) -> list[ErrorDetail]:
    if len(details) <= MAX_LISTED_ERRORS:
        return details
    extra = len(details) - MAX_LISTED_ERRORS
    note = invalid(["body"], f"{extra} more errors not listed", "truncated")
    return [*details[:MAX_LISTED_ERRORS], note]


def _check_batch_size(count: int, location: list[str | int]) -> None:
    limit = current_settings().max_batch_names
    if count > limit:
        raise unprocessable(
            [invalid(location, f"{count} names sent; the limit is {limit}", "too_many_names")]
        )


def _check_model_name(model: str) -> None:
    if model != MODEL_NAME:
        raise ApiError(
            HTTPStatus.NOT_FOUND,
            "model_not_found",
            f"unknown model {model!r}; this server serves {MODEL_NAME!r}",
            [invalid(["path", "model"], f"must be {MODEL_NAME!r}", "model_not_found")],
        )


def _json(status: int, body: Any) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


# -- the old service's contract ---------------------------------------------------------------


@route("GET", "/check_service", tags=["legacy"], summary="Liveness, as the old service said it")
def check_service() -> CheckServiceResponse:
    """Always ``{"Message": "Hello world from service"}`` (the old body), model or not."""
    return CheckServiceResponse()


@route(
    "POST",
    "/get_prediction",
    tags=["legacy"],
    summary="Top labels of one name (old contract; log-probabilities)",
    responses=responses("Labels and natural-log probabilities, best first.", *BODY_ERRORS),
)
def get_prediction(
    request: Annotated[GetPredictionRequest, Body(embed=False)],
) -> GetPredictionResponse:
    """The old service's answer. ``probabilities`` are natural-log probabilities (<= 0)."""
    (outcome,) = _classify([request.name], request.n_predictions)
    (prediction,) = _only_predictions([outcome], lambda _: ["body", "name"])
    return GetPredictionResponse(
        predictions=list(prediction.labels),
        probabilities=list(prediction.log_probabilities),
    )


# -- batch ------------------------------------------------------------------------------------


@route(
    "POST",
    "/predict",
    tags=["predict"],
    summary="Top labels of many names, in input order",
    responses=responses("One result per name, in input order.", *BODY_ERRORS),
)
def predict(request: Annotated[PredictRequest, Body(embed=False)]) -> PredictResponse:
    """One result per name in input order; one invalid name makes the whole request a 422."""
    _check_batch_size(len(request.names), ["body", "names"])
    outcomes = _classify(request.names, request.top_k)
    predictions = _only_predictions(outcomes, lambda i: ["body", "names", i])
    return PredictResponse(
        model_version=model_store.current().manifest.model_version,
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


# -- metadata and documentation ---------------------------------------------------------------


@route(
    "GET",
    "/model",
    tags=["model"],
    summary="The served model: version, sha256, labels, metrics, limits",
    responses=responses("The loaded model's manifest and the limits.", 503),
)
def model_metadata() -> ModelMetadataResponse:
    """What the manifest says about the loaded model, and this deployment's limits."""
    classifier = model_store.current()
    manifest = classifier.manifest
    limits = current_settings()
    return ModelMetadataResponse(
        model_version=manifest.model_version,
        model_sha256=manifest.model_sha256,
        data_sha256=manifest.data_sha256,
        created_at=manifest.created_at.isoformat(),
        labels=list(manifest.labels),
        metrics=manifest.metrics,
        limits=Limits(
            max_name_length=classifier.max_name_length,
            max_batch_names=limits.max_batch_names,
            max_body_bytes=limits.max_body_bytes,
            max_top_k=len(classifier.labels),
        ),
    )


def openapi_document() -> str:
    """The OpenAPI 3.1 document Powertools generates from these routes (also docs/openapi.json)."""
    return app.get_openapi_json_schema(
        title="nameorigin",
        version=API_VERSION,
        description=(
            "Which language a surname comes from (18 labels). The same API is served by the "
            "API Gateway function and the Knative service. Errors are JSON: "
            '{"error": "<sentence>", "detail": [{"loc", "msg", "type"}]}.'
        ),
    )


@route("GET", "/openapi.json", include_in_schema=False)
def openapi_json() -> Response[str]:
    """This API's OpenAPI document."""
    return Response(200, content_types.APPLICATION_JSON, _cached_openapi())


@functools.cache
def _cached_openapi() -> str:
    return openapi_document()


# -- Open Inference Protocol v2 (KServe / Triton REST) ----------------------------------------


@route("GET", "/v2", tags=["v2"], summary="v2 server metadata")
def v2_server_metadata() -> V2ServerMetadataResponse:
    """``$metadata_server_response``."""
    return V2ServerMetadataResponse(name=MODEL_NAME, version=API_VERSION, extensions=[])


@route("GET", "/v2/health/live", tags=["v2"], summary="v2 server live (always 200)")
def v2_live() -> V2ServerLiveResponse:
    """The process answers: it is live, even while the model loads."""
    return V2ServerLiveResponse(live=True)


@route("GET", "/v2/health/ready", tags=["v2"], summary="v2 server ready: 200, or 503 without model")
def v2_ready() -> Response[V2ReadyResponse]:
    """200 once the model has loaded, 503 before (or if it failed to load)."""
    ready = model_store.is_ready()
    return _json(200 if ready else 503, V2ReadyResponse(ready=ready).model_dump())


@route(
    "GET",
    "/v2/models/<model>/ready",
    tags=["v2"],
    summary="v2 model ready",
    responses=responses("Ready (a 503 says not ready).", 404, 503),
)
def v2_model_ready(model: str) -> Response[V2ReadyResponse]:
    """Like server ready, for the one model this server has."""
    _check_model_name(model)
    return v2_ready()


@route(
    "GET",
    "/v2/models/<model>",
    tags=["v2"],
    summary="v2 model metadata",
    responses=responses("``$metadata_model_response``.", 404, 503),
)
def v2_model_metadata(model: str) -> V2ModelMetadataResponse:
    """``$metadata_model_response``: one BYTES input of names, three [names, k] outputs."""
    _check_model_name(model)
    version = model_store.current().manifest.model_version
    return V2ModelMetadataResponse(
        name=MODEL_NAME,
        versions=[version],
        platform="onnxruntime_onnx",
        inputs=[V2TensorMetadata(name=V2_INPUT, datatype="BYTES", shape=[-1])],
        outputs=[
            V2TensorMetadata(name=name, datatype=datatype, shape=[-1, -1])
            for name, datatype in V2_OUTPUTS.items()
        ],
    )


def _flatten(data: list[Any]) -> Iterator[Any]:
    """Row-major elements of flat or nested tensor data (iterative: no recursion limit)."""
    stack: list[Iterator[Any]] = [iter(data)]
    while stack:
        item = next(stack[-1], _END)
        if item is _END:
            stack.pop()
        elif isinstance(item, list):
            stack.append(iter(item))
        else:
            yield item


_END = object()


def _v2_names(request: V2InferenceRequest) -> list[str]:
    """The names in the request's one BYTES input, or a 422 saying what is wrong with it."""
    if len(request.inputs) != 1:
        raise unprocessable(
            [
                invalid(
                    ["body", "inputs"],
                    f"expected exactly one input tensor ({V2_INPUT!r}), got {len(request.inputs)}",
                    "input_count",
                )
            ]
        )
    tensor = request.inputs[0]
    where: list[str | int] = ["body", "inputs", 0]
    if tensor.datatype != "BYTES":
        raise unprocessable(
            [invalid([*where, "datatype"], f"must be 'BYTES', got {tensor.datatype!r}", "datatype")]
        )
    values = list(_flatten(tensor.data))
    _check_batch_size(len(values), [*where, "data"])
    not_text = [
        invalid([*where, "data", i], "must be a string (a name)", "string_type")
        for i, value in enumerate(values)
        if not isinstance(value, str)
    ]
    if not_text:
        raise unprocessable(_capped(not_text))
    if not values:
        raise unprocessable([invalid([*where, "data"], "no names given", "empty")])
    if tensor.shape not in ([len(values)], [len(values), 1]):
        raise unprocessable(
            [
                invalid(
                    [*where, "shape"],
                    f"must be [{len(values)}] or [{len(values)}, 1] for {len(values)} names, "
                    f"got {tensor.shape}",
                    "shape",
                )
            ]
        )
    return [str(value) for value in values]


def _v2_top_k(request: V2InferenceRequest) -> int:
    value = (request.parameters or {}).get("top_k", DEFAULT_TOP_K)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= LABEL_COUNT:
        raise unprocessable(
            [
                invalid(
                    ["body", "parameters", "top_k"],
                    f"must be an integer from 1 to {LABEL_COUNT}, got {value!r}",
                    "top_k",
                )
            ]
        )
    return value


def _v2_requested_outputs(request: V2InferenceRequest) -> list[str]:
    if not request.outputs:
        return list(V2_OUTPUTS)
    unknown = [
        invalid(["body", "outputs", i, "name"], f"must be one of {list(V2_OUTPUTS)}", "output")
        for i, output in enumerate(request.outputs)
        if output.name not in V2_OUTPUTS
    ]
    if unknown:
        raise unprocessable(unknown)
    return [output.name for output in request.outputs]


@route(
    "POST",
    "/v2/models/<model>/infer",
    tags=["v2"],
    summary="v2 inference: BYTES tensor of names in, [names, top_k] tensors out",
    responses=responses("``$inference_response``.", 404, *BODY_ERRORS),
)
def v2_infer(
    model: str, request: Annotated[V2InferenceRequest, Body(embed=False)]
) -> Response[V2InferenceResponse]:
    """``$inference_request`` -> ``$inference_response``; ``parameters.top_k`` sets k (default 3).

    ``id`` is echoed only when the request has one (the protocol's rule).
    """
    _check_model_name(model)
    names = _v2_names(request)
    top_k = _v2_top_k(request)
    wanted = _v2_requested_outputs(request)
    outcomes = _classify(names, top_k)
    predictions = _only_predictions(outcomes, lambda i: ["body", "inputs", 0, "data", i])
    columns: dict[str, list[Any]] = {
        "labels": [label for p in predictions for label in p.labels],
        "probabilities": [value for p in predictions for value in p.probabilities],
        "log_probabilities": [value for p in predictions for value in p.log_probabilities],
    }
    response = V2InferenceResponse(
        model_name=MODEL_NAME,
        model_version=model_store.current().manifest.model_version,
        id=request.id,
        outputs=[
            V2ResponseOutput(
                name=name,
                shape=[len(predictions), top_k],
                datatype=V2_OUTPUTS[name],
                data=columns[name],
            )
            for name in wanted
        ],
    )
    return _json(200, response.model_dump(exclude_none=True))
