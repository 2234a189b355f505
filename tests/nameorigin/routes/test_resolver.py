"""The routes through the shared resolver, driven by the committed API Gateway events.

Successful answers are compared with what the Classifier itself says for the same names, never
with hard-coded labels (the model gets retrained).

Longer than ~300 lines on purpose: one table of every committed event and its status, checked
against all routes at once, reads best in one place.
"""

from __future__ import annotations

import base64
import json
import math
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from api_events import Answer, RecordingTelemetry, answer_of, event_names, load_event
from support import lambda_context

from nameorigin.config import Settings
from nameorigin.core.classifier import Classifier, Prediction
from nameorigin.core.model_store import ModelStore
from nameorigin.routes.v2 import V2_OUTPUTS

from .conftest import MakeResolver

Resolve = Callable[[dict[str, Any]], Answer]

#: The status every committed event must get; a new event file without an entry fails a test.
EXPECTED_STATUS = {
    "check_service": 200,
    "get_prediction": 200,
    "get_prediction_accented": 200,
    "get_prediction_base64": 200,
    "get_prediction_cyrillic": 200,
    "get_prediction_default_n": 200,
    "get_prediction_empty_name": 422,
    "get_prediction_malformed_json": 400,
    "get_prediction_missing_name": 422,
    "get_prediction_n_too_large": 422,
    "get_prediction_n_zero": 422,
    "get_prediction_name_not_a_string": 422,
    "get_prediction_name_too_long": 422,
    "get_prediction_no_body": 422,
    "get_prediction_no_letters": 422,
    "get_prediction_not_utf8": 400,
    "get_prediction_text_plain": 415,
    "get_prediction_wrong_method": 405,
    "model": 200,
    "openapi": 200,
    "predict": 200,
    "predict_body_too_large": 413,
    "predict_deeply_nested": 400,
    "predict_invalid_names": 422,
    "predict_name_not_a_string": 422,
    "predict_no_names": 422,
    "predict_too_many_names": 422,
    "predict_top_k_too_large": 422,
    "unknown_route": 404,
    "v2_health_live": 200,
    "v2_health_ready": 200,
    "v2_infer": 200,
    "v2_infer_bad_top_k": 422,
    "v2_infer_invalid_name": 422,
    "v2_infer_missing_inputs": 422,
    "v2_infer_nested": 200,
    "v2_infer_not_strings": 422,
    "v2_infer_shape_mismatch": 422,
    "v2_infer_two_inputs": 422,
    "v2_infer_unknown_model": 404,
    "v2_infer_unknown_output": 422,
    "v2_infer_wrong_datatype": 422,
    "v2_infer_wrong_method": 405,
    "v2_model_metadata": 200,
    "v2_model_metadata_unknown_model": 404,
    "v2_model_ready": 200,
    "v2_server_metadata": 200,
}


def body_of(name: str) -> Any:
    """The JSON body a committed event carries (base64-decoded when the event says so)."""
    event = load_event(name)
    text = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"]
    return json.loads(text)


def expected(classifier: Classifier, names: list[str], k: int) -> list[Prediction]:
    """What the classifier itself answers (every name valid)."""
    outcomes = classifier.classify(names, k)
    assert all(isinstance(o, Prediction) for o in outcomes)
    return [o for o in outcomes if isinstance(o, Prediction)]


def error_locations(answer: Answer) -> list[list[Any]]:
    """The ``loc`` of every detail of an error answer."""
    return [detail["loc"] for detail in answer.body["detail"]]


@pytest.fixture
def limits(make_resolver: MakeResolver) -> Callable[..., Resolve]:
    """A resolver enforcing other limits (settings are passed to the resolver, never global)."""

    def change(**values: int) -> Resolve:
        app = make_resolver(**values)
        return lambda event: answer_of(app.resolve(event, lambda_context()))  # type: ignore[arg-type]

    return change


# -- every event ------------------------------------------------------------------------------


def test_every_committed_event_has_an_expected_status() -> None:
    assert event_names() == sorted(EXPECTED_STATUS)


@pytest.mark.parametrize("name", sorted(EXPECTED_STATUS))
def test_event_gets_its_status_and_a_json_body(name: str, resolve: Resolve) -> None:
    answer = resolve(load_event(name))

    assert answer.status == EXPECTED_STATUS[name]
    assert answer.headers["Content-Type"] == ["application/json"]
    if answer.status >= 400:
        assert isinstance(answer.body["error"], str)
        assert answer.body["error"]
        for detail in answer.body["detail"]:
            assert set(detail) == {"loc", "msg", "type"}


# -- the old contract -------------------------------------------------------------------------


def test_check_service_keeps_the_old_body_exactly(resolve: Resolve) -> None:
    answer = resolve(load_event("check_service"))

    assert answer.body == {"Message": "Hello world from service"}


@pytest.mark.parametrize(
    "name",
    [
        "get_prediction",
        "get_prediction_accented",
        "get_prediction_base64",
        "get_prediction_cyrillic",
    ],
)
def test_get_prediction_answers_what_the_classifier_says_in_log_probabilities(
    name: str, resolve: Resolve, loaded_model: Classifier
) -> None:
    request = body_of(name)

    answer = resolve(load_event(name))

    (prediction,) = expected(loaded_model, [request["name"]], request["n_predictions"])
    assert answer.body == {
        "predictions": list(prediction.labels),
        "probabilities": list(prediction.log_probabilities),
    }
    assert all(value <= 0.0 for value in answer.body["probabilities"])


def test_get_prediction_returns_three_labels_by_default(resolve: Resolve) -> None:
    answer = resolve(load_event("get_prediction_default_n"))

    assert len(answer.body["predictions"]) == 3
    assert len(answer.body["probabilities"]) == 3


def test_all_eighteen_log_probabilities_sum_to_one(resolve: Resolve) -> None:
    answer = resolve(load_event("get_prediction_accented"))

    assert len(set(answer.body["predictions"])) == 18
    assert math.fsum(math.exp(v) for v in answer.body["probabilities"]) == pytest.approx(
        1, abs=1e-4
    )
    assert answer.body["probabilities"] == sorted(answer.body["probabilities"], reverse=True)


# -- /predict ---------------------------------------------------------------------------------


def test_predict_answers_in_input_order_like_the_classifier(
    resolve: Resolve, loaded_model: Classifier
) -> None:
    request = body_of("predict")

    answer = resolve(load_event("predict"))

    predictions = expected(loaded_model, request["names"], request["top_k"])
    assert answer.body["model_version"] == loaded_model.manifest.model_version
    assert [r["name"] for r in answer.body["results"]] == request["names"]
    for result, prediction in zip(answer.body["results"], predictions, strict=True):
        assert result["labels"] == list(prediction.labels)
        assert result["log_probabilities"] == list(prediction.log_probabilities)
        assert result["probabilities"] == pytest.approx(list(prediction.probabilities))
        assert all(0.0 <= p <= 1.0 for p in result["probabilities"])


def test_predict_names_every_invalid_name_by_index(resolve: Resolve) -> None:
    answer = resolve(load_event("predict_invalid_names"))

    assert error_locations(answer) == [
        ["body", "names", 1],
        ["body", "names", 2],
        ["body", "names", 3],
    ]
    assert [d["type"] for d in answer.body["detail"]] == ["empty", "no_letters", "too_long"]
    assert "names.1" in answer.body["error"]


def test_predict_batch_limit_comes_from_the_settings(limits: Any) -> None:
    answer = limits(max_batch_names=2)(load_event("predict"))

    assert answer.status == 422
    assert answer.body["detail"][0]["type"] == "too_many_names"


def test_body_limit_comes_from_the_settings(limits: Any) -> None:
    answer = limits(max_body_bytes=20)(load_event("get_prediction"))

    assert answer.status == 413
    assert "limit is 20 bytes" in answer.body["error"]


def test_name_length_limit_is_the_models(resolve: Resolve, loaded_model: Classifier) -> None:
    event = load_event("get_prediction")
    event["body"] = json.dumps({"name": "A" * loaded_model.max_name_length})

    assert loaded_model.max_name_length == loaded_model.manifest.max_name_length
    assert resolve(event).status == 200
    event["body"] = json.dumps({"name": "A" * (loaded_model.max_name_length + 1)})
    assert resolve(event).body["detail"][0]["type"] == "too_long"


def test_a_deployment_may_lower_the_name_length_never_raise_it(limits: Any) -> None:
    event = load_event("get_prediction")
    event["body"] = json.dumps({"name": "Abcdef"})

    assert limits(max_name_length=5)(event).status == 200  # the loaded model keeps its limit
    store = ModelStore(Settings.from_environ({"NAMEORIGIN_MAX_NAME_LENGTH": "5"}))
    store.load()
    assert store.current().max_name_length == 5
    store = ModelStore(Settings.from_environ({"NAMEORIGIN_MAX_NAME_LENGTH": "500"}))
    store.load()
    assert store.current().max_name_length == store.current().manifest.max_name_length


@pytest.mark.parametrize(
    ("name", "field"), [("get_prediction", "n_predictions"), ("predict", "top_k")]
)
def test_top_k_is_bounded_by_the_models_label_count(
    name: str, field: str, resolve: Resolve, loaded_model: Classifier
) -> None:
    event = load_event(name)
    body = json.loads(event["body"])
    labels = len(loaded_model.labels)

    body[field] = labels
    event["body"] = json.dumps(body)
    assert resolve(event).status == 200
    body[field] = labels + 1
    event["body"] = json.dumps(body)
    answer = resolve(event)
    assert answer.status == 422
    assert answer.body["detail"][0]["loc"] == ["body", field]


# -- metadata and OpenAPI ---------------------------------------------------------------------


def test_model_metadata_is_the_manifests(resolve: Resolve, loaded_model: Classifier) -> None:
    answer = resolve(load_event("model"))

    manifest = loaded_model.manifest
    assert answer.body["model_version"] == manifest.model_version
    assert answer.body["model_sha256"] == manifest.model_sha256
    assert answer.body["labels"] == list(manifest.labels)
    assert answer.body["metrics"] == json.loads(json.dumps(manifest.metrics))
    assert answer.body["limits"]["max_name_length"] == loaded_model.max_name_length


def test_openapi_route_serves_the_document_of_every_route(
    resolve: Resolve, make_resolver: MakeResolver
) -> None:
    answer = resolve(load_event("openapi"))

    documented = set(answer.body["paths"])
    templates = {route.openapi_path for route in make_resolver()._routes()}
    assert templates - documented == {"/openapi.json"}


# -- Open Inference Protocol v2 ---------------------------------------------------------------


def test_v2_infer_returns_three_tensors_like_the_classifier(
    resolve: Resolve, loaded_model: Classifier
) -> None:
    request = body_of("v2_infer")
    names = request["inputs"][0]["data"]
    k = request["parameters"]["top_k"]

    answer = resolve(load_event("v2_infer"))

    predictions = expected(loaded_model, names, k)
    assert answer.body["model_name"] == "nameorigin"
    assert answer.body["model_version"] == loaded_model.manifest.model_version
    assert answer.body["id"] == request["id"]
    outputs = {o["name"]: o for o in answer.body["outputs"]}
    assert list(outputs) == list(V2_OUTPUTS)
    for output in outputs.values():
        assert output["shape"] == [len(names), k]
        assert output["datatype"] == V2_OUTPUTS[output["name"]]
    assert outputs["labels"]["data"] == [label for p in predictions for label in p.labels]
    assert outputs["log_probabilities"]["data"] == [
        v for p in predictions for v in p.log_probabilities
    ]
    assert outputs["probabilities"]["data"] == pytest.approx(
        [v for p in predictions for v in p.probabilities]
    )


def test_v2_infer_accepts_nested_data_and_returns_only_requested_outputs(
    resolve: Resolve, loaded_model: Classifier
) -> None:
    answer = resolve(load_event("v2_infer_nested"))

    predictions = expected(loaded_model, ["Ivanov", "Tanaka"], 3)
    assert [o["name"] for o in answer.body["outputs"]] == ["labels", "probabilities"]
    assert answer.body["outputs"][0]["data"] == [label for p in predictions for label in p.labels]
    assert "id" not in answer.body


def test_v2_model_metadata_describes_the_tensors(
    resolve: Resolve, loaded_model: Classifier
) -> None:
    answer = resolve(load_event("v2_model_metadata"))

    assert answer.body["name"] == "nameorigin"
    assert answer.body["versions"] == [loaded_model.manifest.model_version]
    assert answer.body["inputs"] == [{"name": "names", "datatype": "BYTES", "shape": [-1]}]
    assert [o["name"] for o in answer.body["outputs"]] == list(V2_OUTPUTS)


def test_v2_invalid_name_is_located_in_the_tensor(resolve: Resolve) -> None:
    answer = resolve(load_event("v2_infer_invalid_name"))

    assert error_locations(answer) == [["body", "inputs", 0, "data", 1]]


def test_v2_unknown_model_says_which_model_is_served(resolve: Resolve) -> None:
    answer = resolve(load_event("v2_infer_unknown_model"))

    assert "'resnet'" in answer.body["error"]
    assert "'nameorigin'" in answer.body["error"]


# -- routing errors ---------------------------------------------------------------------------


def test_wrong_method_answers_405_with_allow_header(resolve: Resolve) -> None:
    answer = resolve(load_event("get_prediction_wrong_method"))

    assert answer.headers["Allow"] == ["POST"]
    assert "POST" in answer.body["error"]


def test_the_resolver_names_routes_and_their_methods(make_resolver: MakeResolver) -> None:
    app = make_resolver()

    assert app.route_name("/v2/models/x/infer") == "/v2/models/<model>/infer"
    assert app.route_name("/v2/models/x/y/infer") == "unmatched"
    assert app.route_name("/get_prediction") == "/get_prediction"
    assert app.allowed_methods("/v2/models/nameorigin") == ["GET"]
    assert app.allowed_methods("/nowhere") == []


@pytest.mark.parametrize(
    "body",
    [
        "",
        "null",
        "[]",
        "3",
        '"text"',
        "{}",
        '{"name": null}',
        '{"name": ["a"]}',
        '{"names": "abc"}',
        '{"names": [[]]}',
        '{"inputs": [{}]}',
        '{"inputs": "x"}',
        "\u0000",
        '{"name": "\\ud800"}',
    ],
)
@pytest.mark.parametrize("route", ["get_prediction", "predict", "v2_infer"])
def test_garbage_bodies_get_a_4xx_never_a_500(route: str, body: str, resolve: Resolve) -> None:
    event = load_event(route)
    event["body"] = body

    answer = resolve(event)

    assert 400 <= answer.status < 500, answer.body
    assert answer.body["error"]


# -- without a model --------------------------------------------------------------------------


@pytest.fixture
def no_model(make_resolver: MakeResolver) -> Resolve:
    """Resolve with an empty model store (as while loading, or after a failed load)."""
    app = make_resolver(ModelStore(Settings.from_environ({})))
    return lambda event: answer_of(app.resolve(event, lambda_context()))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name", ["get_prediction", "predict", "v2_infer", "model", "v2_model_metadata"]
)
def test_routes_needing_the_model_answer_503_json_without_it(name: str, no_model: Resolve) -> None:
    answer = no_model(load_event(name))

    assert answer.status == 503
    assert "not available" in answer.body["error"]
    assert answer.headers["Retry-After"] == ["1"]


def test_liveness_stays_200_and_readiness_is_503_without_model(no_model: Resolve) -> None:
    assert no_model(load_event("v2_health_live")).status == 200
    assert no_model(load_event("check_service")).status == 200
    ready = no_model(load_event("v2_health_ready"))
    assert (ready.status, ready.body) == (503, {"ready": False})
    assert no_model(load_event("v2_model_ready")).status == 503


def test_building_a_resolver_does_not_load_the_model() -> None:
    check = (
        "from nameorigin.config import Settings;"
        "from nameorigin.core.model_store import ModelStore;"
        "from nameorigin.routes.resolver import create_resolver; s = Settings.from_environ({});"
        "m = ModelStore(s); create_resolver(s, m); print(m.is_ready())"
    )

    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True, timeout=60
    )

    assert result.stdout.strip() == "False"


def test_two_resolvers_keep_their_own_limits(make_resolver: MakeResolver) -> None:
    strict, default = make_resolver(max_batch_names=2), make_resolver()

    for app, status in ((strict, 422), (default, 200), (strict, 422)):
        assert app.resolve(load_event("predict"), lambda_context())["statusCode"] == status  # type: ignore[arg-type]


# -- telemetry --------------------------------------------------------------------------------


def test_routes_report_names_latency_and_request(
    resolve: Resolve, recorded: RecordingTelemetry
) -> None:
    resolve(load_event("predict"))

    assert recorded.names == [("/predict", len(body_of("predict")["names"]))]
    assert [route for route, _ in recorded.latencies] == ["/predict"]
    assert recorded.latencies[0][1] > 0
    assert recorded.requests == [("/predict", "POST", 200)]
    assert recorded.errors == []


def test_errors_are_reported_with_route_and_kind(
    resolve: Resolve, recorded: RecordingTelemetry
) -> None:
    resolve(load_event("predict_invalid_names"))
    resolve(load_event("unknown_route"))

    assert recorded.errors == [
        ("/predict", "validation_error", 422),
        ("unmatched", "not_found", 404),
    ]
    assert [status for *_, status in recorded.requests] == [422, 404]
