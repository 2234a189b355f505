"""The API Gateway Lambda entry point: ``nameorigin.lambda_api.handler.lambda_handler``.

Module scope runs once per execution environment, in Lambda's init phase: it reads the settings,
sets up Powertools Logger/Metrics (Tracer when tracing is on), builds the resolver with EMF
telemetry and loads the model, so the first request pays for none of it. A model that fails to load
does not crash init: routes then answer 503 with the reason, which the 5xx alarm sees and
``/v2/health/ready`` reports.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from nameorigin.config import Settings
from nameorigin.core.model_store import ModelStore
from nameorigin.lambda_api.metrics import PowertoolsTelemetry
from nameorigin.routes.resolver import create_resolver
from nameorigin.tracing import traced

logger = Logger()
metrics = Metrics()

settings = Settings.from_environ()
models = ModelStore(settings)
app = create_resolver(settings, models, PowertoolsTelemetry(metrics))

try:
    models.load()
except Exception:  # any load failure: keep serving, answer 503 saying why
    logger.exception("model failed to load; requests will get 503")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
def handle_api_event(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Answer one API Gateway REST proxy event."""
    return app.resolve(event, context)


#: The entry point the template names (X-Ray tracing only when NAMEORIGIN_TRACING is on).
lambda_handler = traced(handle_api_event, enabled=settings.tracing)
