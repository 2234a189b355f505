"""Queue batch mode: bulk classification from SQS (or a CloudEvent), results to S3, nothing lost.

``jobs.run_batch`` is the one entry point every transport shares: the SQS Lambda
(``nameorigin.lambda_batch``), the Knative CloudEvents endpoint (``nameorigin.server``) and, through
the SQS handler, the local poller (``nameorigin.tooling``). See docs/batch.md.
"""
