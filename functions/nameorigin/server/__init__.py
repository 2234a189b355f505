"""The Knative front door: uvicorn serving the API Gateway resolver through a thin ASGI adapter.

Routes and validation live once, in ``nameorigin.routes``; this package only translates HTTP to the
API Gateway proxy event the resolver already understands, and adds what only a long-running HTTP
process needs (readiness while the model loads, Prometheus metrics, CloudEvents, graceful shutdown).
"""

#: Log lines of every process of the server: supervisor, HTTP workers and batch processes.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
