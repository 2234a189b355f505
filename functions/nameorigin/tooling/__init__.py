"""Development and operator tooling that never ships in a Lambda package: the ``nameorigin-batch``
CLI (``cli/``), the local SQS poller, the local queue topology and ``make generate``."""
