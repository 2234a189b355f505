"""Queue batch mode: bulk classification from SQS (or a CloudEvent), results to S3, nothing lost.

``jobs.run_batch`` is the one entry point; ``handler`` is the SQS Lambda, ``poller`` runs the same
handler against a local queue, ``cli`` submits batches and collects results. See docs/batch.md.
"""
