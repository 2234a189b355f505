"""The SQS door: ``nameorigin.lambda_batch.handler.lambda_handler`` (template.yaml)."""
