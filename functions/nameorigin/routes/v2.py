"""Open Inference Protocol v2 (KServe / Triton REST): health, metadata and a BYTES-tensor infer."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from nameorigin.config import DEFAULT_TOP_K
from nameorigin.routes.dependencies import (
    MODEL_NAME,
    Dependencies,
    capped,
    check_model_name,
    json_response,
    matched_route,
    only_predictions,
)
from nameorigin.routes.errors import BODY_ERRORS, invalid, responses, unprocessable
from nameorigin.routes.schemas import (
    V2InferenceRequest,
    V2InferenceResponse,
    V2ModelMetadataResponse,
    V2ReadyResponse,
    V2ResponseOutput,
    V2ServerLiveResponse,
    V2ServerMetadataResponse,
    V2TensorMetadata,
)

#: Version of this API (OpenAPI document, v2 server metadata); the model has its own version.
API_VERSION = "0.1.0"
#: Output tensors of ``/v2/models/nameorigin/infer``, each shaped ``[names, top_k]``.
V2_OUTPUTS: Mapping[str, str] = {
    "labels": "BYTES",
    "probabilities": "FP32",
    "log_probabilities": "FP32",
}
V2_INPUT = "names"
_END = object()
#: The ``{model}`` path parameter: any string is accepted (an unknown one is a 404); the document
#: names the one model served, so clients and generated tests reach the real routes.
ModelName = Annotated[
    str, Path(description=f"Must be {MODEL_NAME!r}.", json_schema_extra={"enum": [MODEL_NAME]})
]


def create_router(deps: Dependencies) -> Router:
    """The v2 routes, bound to one resolver's dependencies."""
    router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves __init__ untyped

    @router.get("/v2", tags=["v2"], summary="v2 server metadata")
    def v2_server_metadata() -> V2ServerMetadataResponse:
        """``$metadata_server_response``."""
        return V2ServerMetadataResponse(name=MODEL_NAME, version=API_VERSION, extensions=[])

    @router.get("/v2/health/live", tags=["v2"], summary="v2 server live (always 200)")
    def v2_live() -> V2ServerLiveResponse:
        """The process answers: it is live, even while the model loads."""
        return V2ServerLiveResponse(live=True)

    @router.get(
        "/v2/health/ready", tags=["v2"], summary="v2 server ready: 200, or 503 without model"
    )
    def v2_ready() -> Response[V2ReadyResponse]:
        """200 once the model has loaded, 503 before (or if it failed to load)."""
        ready = deps.models.is_ready()
        return json_response(200 if ready else 503, V2ReadyResponse(ready=ready).model_dump())

    @router.get(
        "/v2/models/<model>/ready",
        tags=["v2"],
        summary="v2 model ready",
        responses=responses("Ready (a 503 says not ready).", 404, 503),
    )
    def v2_model_ready(model: ModelName) -> Response[V2ReadyResponse]:
        """Like server ready, for the one model this server has."""
        check_model_name(model)
        return v2_ready()

    @router.get(
        "/v2/models/<model>",
        tags=["v2"],
        summary="v2 model metadata",
        responses=responses("``$metadata_model_response``.", 404, 503),
    )
    def v2_model_metadata(model: ModelName) -> V2ModelMetadataResponse:
        """``$metadata_model_response``: one BYTES input of names, three [names, k] outputs."""
        check_model_name(model)
        version = deps.models.current().manifest.model_version
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

    @router.post(
        "/v2/models/<model>/infer",
        tags=["v2"],
        summary="v2 inference: BYTES tensor of names in, [names, top_k] tensors out",
        responses=responses("``$inference_response``.", 404, *BODY_ERRORS),
    )
    def v2_infer(
        model: ModelName, request: Annotated[V2InferenceRequest, Body(embed=False)]
    ) -> Response[V2InferenceResponse]:
        """``$inference_request`` -> ``$inference_response``; ``parameters.top_k`` sets k
        (default 3). ``id`` is echoed only when the request has one (the protocol's rule).
        """
        check_model_name(model)
        names = _names(deps, request)
        top_k = _top_k(request, len(deps.models.current().labels))
        wanted = _requested_outputs(request)
        outcomes = deps.classify(matched_route(router), names, top_k, ["body", "parameters"])
        predictions = only_predictions(outcomes, lambda i: ["body", "inputs", 0, "data", i])
        columns: dict[str, list[Any]] = {
            "labels": [label for p in predictions for label in p.labels],
            "probabilities": [value for p in predictions for value in p.probabilities],
            "log_probabilities": [value for p in predictions for value in p.log_probabilities],
        }
        response = V2InferenceResponse(
            model_name=MODEL_NAME,
            model_version=deps.models.current().manifest.model_version,
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
        return json_response(200, response.model_dump(exclude_none=True))

    return router


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


def _names(deps: Dependencies, request: V2InferenceRequest) -> list[str]:
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
    deps.check_batch_size(len(values), [*where, "data"])
    not_text = [
        invalid([*where, "data", i], "must be a string (a name)", "string_type")
        for i, value in enumerate(values)
        if not isinstance(value, str)
    ]
    if not_text:
        raise unprocessable(capped(not_text))
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


def _top_k(request: V2InferenceRequest, label_count: int) -> int:
    """``parameters.top_k``: an integer from 1 to the model's label count."""
    value = (request.parameters or {}).get("top_k", DEFAULT_TOP_K)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= label_count:
        raise unprocessable(
            [
                invalid(
                    ["body", "parameters", "top_k"],
                    f"must be an integer from 1 to {label_count}, got {value!r}",
                    "top_k",
                )
            ]
        )
    return value


def _requested_outputs(request: V2InferenceRequest) -> list[str]:
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
