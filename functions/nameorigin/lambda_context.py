"""A Lambda context object for code that runs handlers where there is no Lambda.

The Knative server (each request), the local SQS poller (each batch) and the tests hand this to
the same handlers Lambda calls; it carries the fields Powertools and the handlers read. Not copied
into the Lambda packages: Lambda brings its own.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field


@dataclass
class LocalLambdaContext:
    """The Lambda context fields Powertools and handlers read, with a countdown to a deadline."""

    function_name: str = "nameorigin-local"
    timeout_seconds: float = 300.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 0
    log_group_name: str = "local"
    log_stream_name: str = "local"
    region: str = "us-east-1"
    account_id: str = "123456789012"
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        """An ARN shaped like the real one (Powertools logs it)."""
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the (notional, never enforced) timeout, as Lambda reports."""
        elapsed = time.monotonic() - self.started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))
