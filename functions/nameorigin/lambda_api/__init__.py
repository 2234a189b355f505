"""The API Gateway door: ``nameorigin.lambda_api.handler.lambda_handler`` (template.yaml)."""
