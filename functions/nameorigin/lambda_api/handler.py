"""The API Gateway Lambda entry point: ``nameorigin.lambda_api.handler.lambda_handler``.

Module scope runs once per execution environment, in Lambda's init phase: it reads the settings,
sets up Powertools Logger/Metrics (Tracer when tracing is on), builds the resolver with EMF
telemetry and loads the model, so the first request pays for none of it. A model that fails to load
does not crash init: routes then answer 503 with the reason, which the 5xx alarm sees and
``/v2/health/ready`` reports.
"""

from __future__ import annotations

# isort: off  (order matters: the model starts loading before the heavy imports below)
from nameorigin.config import Settings
from nameorigin.core.model_store import ModelStore

settings = Settings.from_environ()
models = ModelStore(settings)
_loading = models.load_in_background()  # overlaps Powertools' and pydantic's imports (cold start)
# isort: on

from typing import Any  # noqa: E402

from aws_lambda_powertools import Logger, Metrics  # noqa: E402
from aws_lambda_powertools.logging import correlation_paths  # noqa: E402
from aws_lambda_powertools.utilities.typing import LambdaContext  # noqa: E402

from nameorigin.lambda_api.metrics import PowertoolsTelemetry  # noqa: E402
from nameorigin.routes.proxy_event import event_problem  # noqa: E402
from nameorigin.routes.resolver import create_resolver  # noqa: E402
from nameorigin.tracing import traced  # noqa: E402

logger = Logger()
metrics = Metrics()
app = create_resolver(settings, models, PowertoolsTelemetry(metrics))

_loading.join()  # init ends with the model loaded, or with the reason it is not
if not models.is_ready():  # keep serving: routes answer 503 saying why
    logger.error("model failed to load; requests will get 503: %s", models.load_error())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
def handle_api_event(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Answer one API Gateway REST proxy event (400 for what API Gateway would never send)."""
    problem = event_problem(event)
    if problem is not None:
        return app.invalid_event(problem)
    return app.resolve(event, context)


#: The entry point the template names (X-Ray tracing only when NAMEORIGIN_TRACING is on).
lambda_handler = traced(handle_api_event, enabled=settings.tracing)
