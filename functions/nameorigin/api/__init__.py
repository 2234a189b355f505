"""The HTTP API: Powertools routes (app), the Lambda entry point (handler), errors, telemetry."""
