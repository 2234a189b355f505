"""X-Ray tracing for the Lambda handlers, paid for only when it is switched on.

Powertools' Tracer imports the X-Ray SDK, whose import alone costs about a quarter of a second of
every cold start, whether tracing is enabled or not. So the Tracer is created only when
``NAMEORIGIN_TRACING`` is true (the template sets it with Lambda's own ``Tracing`` switch).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

Handler = TypeVar("Handler", bound=Callable[..., object])


def traced(handler: Handler, *, enabled: bool) -> Handler:
    """``handler`` wrapped by ``Tracer().capture_lambda_handler`` when tracing is enabled."""
    if not enabled:
        return handler
    from aws_lambda_powertools import Tracer  # noqa: PLC0415 - deferred on purpose, see module doc

    return cast(Handler, Tracer().capture_lambda_handler(handler))
