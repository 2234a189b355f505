"""Request and response bodies of every route, as pydantic models.

Powertools validates request bodies against these (422 on mismatch) and builds the OpenAPI
document from them. Limits that come from the environment (batch size) or from the model (name
length, top-k bound = label count) are checked in the routes, not here, so the OpenAPI document
does not change with the deployment's settings or the model.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nameorigin.config import DEFAULT_TOP_K

TopK = Annotated[
    int,
    Field(
        ge=1,
        description="How many labels to return per name: 1 to the model's label count "
        "(`limits.max_top_k` of GET /model).",
    ),
]
Name = Annotated[str, Field(description="A surname, as written; normalized by the model's rule.")]


class _Request(BaseModel):
    """Request bodies ignore unknown fields, like the old FastAPI service did."""

    model_config = ConfigDict(extra="ignore")


# -- old service contract ---------------------------------------------------------------------


class CheckServiceResponse(BaseModel):
    """The old service's liveness answer, byte for byte."""

    Message: Literal["Hello world from service"] = "Hello world from service"


class GetPredictionRequest(_Request):
    """The old service's request: one name and how many labels to return."""

    name: Name
    n_predictions: TopK = DEFAULT_TOP_K


class GetPredictionResponse(BaseModel):
    """The old service's answer. ``probabilities`` are NATURAL-LOG probabilities (all <= 0)."""

    predictions: list[str] = Field(description="Labels, most likely first.")
    probabilities: list[float] = Field(
        description="Natural-log probabilities of the labels (log-softmax), same order; <= 0."
    )


# -- batch route ------------------------------------------------------------------------------


class PredictRequest(_Request):
    """Many names in one request; any invalid name rejects the whole request (422)."""

    names: list[Name] = Field(min_length=1, description="Names to classify, at least one.")
    top_k: TopK = DEFAULT_TOP_K


class NameResult(BaseModel):
    """Top-k labels for one name, most likely first."""

    name: str = Field(description="The name exactly as sent.")
    labels: list[str]
    probabilities: list[float] = Field(description="Probabilities in [0, 1], same order.")
    log_probabilities: list[float] = Field(description="Natural-log probabilities, same order.")


class PredictResponse(BaseModel):
    """One result per name, in the order the names were sent."""

    model_config = ConfigDict(protected_namespaces=())

    model_version: str
    results: list[NameResult]


# -- model metadata ---------------------------------------------------------------------------


class Limits(BaseModel):
    """The limits this deployment enforces (from its environment)."""

    max_name_length: int
    max_batch_names: int
    max_body_bytes: int
    max_top_k: int


class ModelMetadataResponse(BaseModel):
    """What model answers, where it came from and how good it is."""

    model_config = ConfigDict(protected_namespaces=())

    model_version: str
    model_sha256: str
    data_sha256: str
    created_at: str
    labels: list[str]
    metrics: dict[str, Any]
    limits: Limits


# -- Open Inference Protocol v2 ---------------------------------------------------------------


class V2ServerLiveResponse(BaseModel):
    """Server liveness (the status code is the answer; the body repeats it)."""

    live: bool


class V2ReadyResponse(BaseModel):
    """Server or model readiness (200 = ready, 503 = not ready)."""

    ready: bool


class V2ServerMetadataResponse(BaseModel):
    """``$metadata_server_response``."""

    name: str
    version: str
    extensions: list[str]


class V2TensorMetadata(BaseModel):
    """``$metadata_tensor``: -1 marks a variable dimension."""

    name: str
    datatype: str
    shape: list[int]


class V2ModelMetadataResponse(BaseModel):
    """``$metadata_model_response``."""

    name: str
    versions: list[str]
    platform: str
    inputs: list[V2TensorMetadata]
    outputs: list[V2TensorMetadata]


Parameters = dict[str, str | int | float | bool]
TensorData = list[Any]


class V2RequestInput(_Request):
    """``$request_input``: here one BYTES tensor of names, shape ``[n]`` or ``[n, 1]``."""

    name: str
    shape: list[Annotated[int, Field(ge=0)]]
    datatype: str
    parameters: Parameters | None = None
    data: TensorData = Field(description="Names, flat or nested in row-major order.")


class V2RequestOutput(_Request):
    """``$request_output``: which outputs to return."""

    name: str
    parameters: Parameters | None = None


class V2InferenceRequest(_Request):
    """``$inference_request``; ``parameters.top_k`` (1..label count, default 3) sets k."""

    id: str | None = None
    parameters: Parameters | None = None
    inputs: list[V2RequestInput] = Field(min_length=1)
    outputs: list[V2RequestOutput] | None = None


class V2ResponseOutput(BaseModel):
    """``$response_output``; data is flattened row-major."""

    name: str
    shape: list[int]
    datatype: str
    data: TensorData


class V2InferenceResponse(BaseModel):
    """``$inference_response``."""

    model_config = ConfigDict(protected_namespaces=())

    model_name: str
    model_version: str
    #: The protocol returns ``id`` only when the request gave one (never ``null``).
    id: str | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="The request's id; absent when the request had none.",
    )
    outputs: list[V2ResponseOutput]


# -- errors -----------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    """One thing wrong with the request; ``loc`` points into it (``["body", "names", 3]``)."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorResponse(BaseModel):
    """Every error answer. ``error`` is a sentence (also the v2 protocol's error object)."""

    error: str
    detail: list[ErrorDetail] = Field(default_factory=list)
