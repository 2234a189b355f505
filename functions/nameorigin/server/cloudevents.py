"""The CloudEvents endpoint: queue messages from Knative Eventing, handled like the SQS function's.

Knative's SQS source delivers each message as a CloudEvent (HTTP binding, binary or structured
mode, read by the ``cloudevents`` SDK). Its data is the same batch message the SQS Lambda
receives, and it goes to the same ``run_batch``. Only the failure mapping is HTTP's own: a message
that can never succeed is a 4xx (the source must not retry it), anything else a 5xx (the message
stays on the queue and comes back).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from cloudevents.core.exceptions import BaseCloudEventException

from nameorigin.batch.jobs import InvalidBatchMessageError, run_batch, validate_message
from nameorigin.batch.store import S3BatchStore
from nameorigin.config import ConfigError, Settings
from nameorigin.core.classifier import Classifier
from nameorigin.core.model_store import ModelNotReadyError, ModelStore
from nameorigin.routes.schemas import ErrorResponse
from nameorigin.server.events import HttpRequest, HttpResponse

logger = logging.getLogger("nameorigin.server.cloudevents")

SPEC_VERSION = "1.0"
STRUCTURED_TYPE = "application/cloudevents+json"
BATCH_TYPE = "application/cloudevents-batch+json"


class InvalidCloudEventError(ValueError):
    """The request is not a CloudEvent this endpoint can read; ``status`` says which 4xx."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> HttpResponse:
    """The API's error body (``{"error": …, "detail": []}``), so clients parse one shape."""
    body = ErrorResponse(error=message).model_dump_json().encode("utf-8")
    pairs = [("content-type", "application/json"), ("content-length", str(len(body)))]
    pairs.extend((headers or {}).items())
    return HttpResponse(status=status, headers=pairs, body=body)


def parse_cloudevent(request: HttpRequest) -> BaseCloudEvent:
    """Read a CloudEvent in binary (``ce-*`` headers) or structured (JSON envelope) mode.

    The SDK parses both modes; this only refuses what it would guess at (a plain JSON body, a
    batch) and the spec versions this endpoint was not written for.
    """
    headers = {key.lower(): value for key, value in request.headers}
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == BATCH_TYPE:
        raise InvalidCloudEventError(
            "batched CloudEvents are not accepted: send one per request", 415
        )
    if content_type != STRUCTURED_TYPE and "ce-specversion" not in headers:
        raise InvalidCloudEventError(
            f"not a CloudEvent: send ce-* headers (binary mode) or Content-Type {STRUCTURED_TYPE}"
        )
    try:
        event = from_http_event(HTTPMessage(headers=headers, body=request.body))
    except (ValueError, UnicodeDecodeError) as error:  # includes json.JSONDecodeError
        raise InvalidCloudEventError(f"structured CloudEvent is not valid JSON: {error}") from error
    except (BaseCloudEventException, AttributeError, TypeError) as error:
        raise InvalidCloudEventError(f"invalid CloudEvent: {error}") from error
    if event.get_specversion() != SPEC_VERSION:
        raise InvalidCloudEventError(
            f"specversion must be {SPEC_VERSION!r}, got {event.get_specversion()!r}"
        )
    return event


def batch_message_of(event: BaseCloudEvent) -> str | bytes | Mapping[str, Any]:
    """The event's data as ``run_batch`` takes it (JSON data may arrive parsed or as text)."""
    data = event.get_data()
    if data is None:
        return b""
    if isinstance(data, str | bytes | Mapping):
        return data
    return json.dumps(data)


class CloudEventsEndpoint:
    """``POST /cloudevents``: one batch message per event, same contract as the SQS function."""

    def __init__(
        self,
        settings: Settings,
        models: ModelStore,
        store_factory: Callable[[Settings], S3BatchStore] = S3BatchStore.from_settings,
    ) -> None:
        self.settings = settings
        self.models = models
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
            classifier = self.models.current()
        except InvalidCloudEventError as error:
            return error_response(error.status, str(error))
        except ModelNotReadyError as error:
            return error_response(503, f"model not ready: {error}")
        return self._run(event, classifier)

    def _run(self, event: BaseCloudEvent, classifier: Classifier) -> HttpResponse:
        try:
            # A message that can never succeed is a 4xx even where no results bucket is set.
            message = validate_message(
                batch_message_of(event), classifier=classifier, settings=self.settings
            )
            summary = run_batch(
                message, classifier=classifier, store=self.store(), settings=self.settings
            )
        except InvalidBatchMessageError as error:
            logger.warning(
                "CloudEvent %s from %s refused: %s",
                event.get_id(),
                event.get_source(),
                error.reason,
            )
            return error_response(422, error.reason)
        except ConfigError as error:
            logger.error("CloudEvent %s cannot be processed: %s", event.get_id(), error)
            return error_response(500, str(error))
        except Exception as error:  # S3, network, throttling: transient, let the source retry
            logger.exception("CloudEvent %s failed; the source will retry it", event.get_id())
            return error_response(503, f"batch failed, retry later: {type(error).__name__}")
        logger.info(
            "CloudEvent %s: batch %s, %d names%s",
            event.get_id(),
            summary.batch_id,
            summary.count,
            " (already done)" if summary.already_done else "",
        )
        body = summary.model_dump_json().encode("utf-8")
        return HttpResponse(
            200, [("content-type", "application/json"), ("content-length", str(len(body)))], body
        )
