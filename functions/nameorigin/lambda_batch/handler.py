"""The SQS-triggered batch Lambda (``nameorigin.lambda_batch.handler.lambda_handler``): each record
is one batch message, run through ``run_batch``.

Powertools' BatchProcessor turns per-record exceptions into a partial batch response
(``ReportBatchItemFailures``): a failed record goes back to the queue (and to the DLQ after
``maxReceiveCount``) while its siblings are deleted. Both kinds of failure fail the record; they are
told apart only in logs and metrics (``PoisonMessages`` vs ``TransientFailures``) because SQS has
one way to retry and the redrive policy decides when retrying stops.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from nameorigin.batch.jobs import InvalidBatchMessageError, run_batch
from nameorigin.batch.store import S3BatchStore
from nameorigin.config import Settings
from nameorigin.core.classifier import Classifier
from nameorigin.core.model_store import ModelStore
from nameorigin.tracing import traced

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
metrics = Metrics()

settings = Settings.from_environ()
models = ModelStore(settings)
# Load in the init phase: the first batch does not pay for it, and a broken artifact fails the init
# (retried by Lambda, visible in the logs) instead of failing messages one by one.
models.load()


@functools.cache
def default_store() -> S3BatchStore:
    """The results store, created on first use (so importing this module needs no AWS access)
    and then reused across invocations of this execution environment."""
    return S3BatchStore.from_settings(settings)


def record_handler(
    record: SQSRecord, *, classifier: Classifier, store: S3BatchStore, settings: Settings
) -> str:
    """Run one message's batch; raise to fail the record (the processor reports it)."""
    receive_count = record.attributes.approximate_receive_count
    context = {"message_id": record.message_id, "receive_count": receive_count}
    try:
        summary = run_batch(record.body, classifier=classifier, store=store, settings=settings)
    except InvalidBatchMessageError as error:
        logger.warning(
            "poison message: it will reach the DLQ", extra={**context, "reason": error.reason}
        )
        metrics.add_metric(name="PoisonMessages", unit=MetricUnit.Count, value=1)
        raise
    except Exception:
        logger.exception("transient failure: the message will be retried", extra=context)
        metrics.add_metric(name="TransientFailures", unit=MetricUnit.Count, value=1)
        raise
    if summary.already_done:
        logger.info(
            "redelivered message: results already complete",
            extra={**context, "batch_id": summary.batch_id},
        )
        metrics.add_metric(name="DuplicateDeliveries", unit=MetricUnit.Count, value=1)
        return summary.batch_id
    logger.info(
        "batch complete",
        extra={
            **context,
            "batch_id": summary.batch_id,
            "count": summary.count,
            "rejected": summary.rejected,
            "results_key": summary.results.key,
            "timings": summary.timings.model_dump(),
        },
    )
    metrics.add_metric(name="BatchesCompleted", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="NamesClassified", unit=MetricUnit.Count, value=summary.classified)
    metrics.add_metric(name="NamesRejected", unit=MetricUnit.Count, value=summary.rejected)
    return summary.batch_id


def process_event(
    event: dict[str, Any],
    context: LambdaContext | None = None,
    *,
    classifier: Classifier,
    store: S3BatchStore,
    settings: Settings,
) -> PartialItemFailureResponse:
    """Process an SQS event with explicit dependencies (the Lambda entry point fills them in)."""
    processor = BatchProcessor(event_type=EventType.SQS)
    handler = functools.partial(
        record_handler, classifier=classifier, store=store, settings=settings
    )
    return process_partial_response(
        event=event, record_handler=handler, processor=processor, context=context
    )


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def handle_sqs_event(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """SQS event in, ``{"batchItemFailures": [...]}`` out."""
    return process_event(
        event,
        context,
        classifier=models.current(),
        store=default_store(),
        settings=settings,
    )


#: The entry point the template names (X-Ray tracing only when NAMEORIGIN_TRACING is on).
lambda_handler = traced(handle_sqs_event, enabled=settings.tracing)
