"""The CloudEvents endpoint: queue messages from Knative Eventing, handled like the SQS function's.

Knative's SQS source delivers each message as a CloudEvent (HTTP binding, binary or structured
mode). Its data is the same batch message the SQS Lambda receives, and it goes to the same
``run_batch``. Only the failure mapping is HTTP's own: a message that can never succeed is a 4xx
(the source must not retry it), anything else a 5xx (the message stays on the queue and comes back).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from nameorigin import model_store
from nameorigin.api.schemas import ErrorResponse
from nameorigin.batch.jobs import InvalidBatchMessageError, run_batch
from nameorigin.batch.store import S3BatchStore
from nameorigin.config import ConfigError, Settings
from nameorigin.core.classifier import Classifier
from nameorigin.http.events import HttpRequest, HttpResponse

logger = logging.getLogger("nameorigin.http.cloudevents")

SPEC_VERSION = "1.0"
REQUIRED_ATTRIBUTES = ("id", "source", "type")
STRUCTURED_TYPE = "application/cloudevents+json"
BATCH_TYPE = "application/cloudevents-batch+json"


class InvalidCloudEventError(ValueError):
    """The request is not a CloudEvent this endpoint can read; ``status`` says which 4xx."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CloudEvent:
    """The attributes worth logging, and the data: the batch message."""

    id: str
    source: str
    type: str
    data: str | bytes | Mapping[str, Any]


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> HttpResponse:
    """The API's error body (``{"error": …, "detail": []}``), so clients parse one shape."""
    body = ErrorResponse(error=message).model_dump_json().encode("utf-8")
    pairs = [("content-type", "application/json"), ("content-length", str(len(body)))]
    pairs.extend((headers or {}).items())
    return HttpResponse(status=status, headers=pairs, body=body)


def _header(request: HttpRequest, name: str) -> str | None:
    for key, value in request.headers:
        if key.lower() == name:
            return value
    return None


def _check_attributes(attributes: Mapping[str, Any]) -> None:
    version = attributes.get("specversion")
    if version != SPEC_VERSION:
        raise InvalidCloudEventError(f"specversion must be {SPEC_VERSION!r}, got {version!r}")
    missing = [name for name in REQUIRED_ATTRIBUTES if not attributes.get(name)]
    if missing:
        raise InvalidCloudEventError(f"CloudEvent attribute(s) missing: {', '.join(missing)}")


def _structured(request: HttpRequest) -> CloudEvent:
    try:
        envelope = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidCloudEventError(f"structured CloudEvent is not valid JSON: {error}") from error
    if not isinstance(envelope, dict):
        raise InvalidCloudEventError("structured CloudEvent must be a JSON object")
    _check_attributes(envelope)
    data: str | bytes | Mapping[str, Any]
    if "data_base64" in envelope:
        try:
            data = base64.b64decode(str(envelope["data_base64"]), validate=True)
        except binascii.Error as error:
            raise InvalidCloudEventError(f"data_base64 is not base64: {error}") from error
    else:
        raw = envelope.get("data")
        data = raw if isinstance(raw, str | dict) else json.dumps(raw)
    return CloudEvent(str(envelope["id"]), str(envelope["source"]), str(envelope["type"]), data)


def _binary(request: HttpRequest) -> CloudEvent:
    attributes = {
        key.lower()[3:]: value for key, value in request.headers if key.lower().startswith("ce-")
    }
    _check_attributes(attributes)
    return CloudEvent(attributes["id"], attributes["source"], attributes["type"], request.body)


def parse_cloudevent(request: HttpRequest) -> CloudEvent:
    """Read a CloudEvent in binary (``ce-*`` headers) or structured (JSON envelope) mode."""
    content_type = (_header(request, "content-type") or "").split(";")[0].strip().lower()
    if content_type == BATCH_TYPE:
        raise InvalidCloudEventError(
            "batched CloudEvents are not accepted: send one per request", 415
        )
    if content_type == STRUCTURED_TYPE:
        return _structured(request)
    if _header(request, "ce-specversion") is not None:
        return _binary(request)
    raise InvalidCloudEventError(
        f"not a CloudEvent: send ce-* headers (binary mode) or Content-Type {STRUCTURED_TYPE}"
    )


class CloudEventsEndpoint:
    """``POST /cloudevents``: one batch message per event, same contract as the SQS function."""

    def __init__(
        self,
        settings: Settings,
        store_factory: Callable[[Settings], S3BatchStore] = S3BatchStore.from_settings,
    ) -> None:
        self.settings = settings
        self._store_factory = store_factory
        self._store: S3BatchStore | None = None

    def store(self) -> S3BatchStore:
        """The results store, made on first use: a process without a bucket still serves the API."""
        if self._store is None:
            self._store = self._store_factory(self.settings)
        return self._store

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Answer one delivery: 200 with the batch summary, 4xx final, 5xx retry."""
        if request.method != "POST":
            return error_response(405, "CloudEvents are delivered with POST", {"allow": "POST"})
        try:
            event = parse_cloudevent(request)
            classifier = model_store.current()
        except InvalidCloudEventError as error:
            return error_response(error.status, str(error))
        except model_store.ModelNotReadyError as error:
            return error_response(503, f"model not ready: {error}")
        return self._run(event, classifier)

    def _run(self, event: CloudEvent, classifier: Classifier) -> HttpResponse:
        try:
            summary = run_batch(
                event.data, classifier=classifier, store=self.store(), settings=self.settings
            )
        except InvalidBatchMessageError as error:
            logger.warning(
                "CloudEvent %s from %s refused: %s", event.id, event.source, error.reason
            )
            return error_response(422, error.reason)
        except ConfigError as error:
            logger.error("CloudEvent %s cannot be processed: %s", event.id, error)
            return error_response(500, str(error))
        except Exception as error:  # S3, network, throttling: transient, let the source retry
            logger.exception("CloudEvent %s failed; the source will retry it", event.id)
            return error_response(503, f"batch failed, retry later: {type(error).__name__}")
        logger.info(
            "CloudEvent %s: batch %s, %d names%s",
            event.id,
            summary.batch_id,
            summary.count,
            " (already done)" if summary.already_done else "",
        )
        body = summary.model_dump_json().encode("utf-8")
        return HttpResponse(
            200, [("content-type", "application/json"), ("content-length", str(len(body)))], body
        )
