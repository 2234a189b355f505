"""The training pipeline on Kubeflow Pipelines: components calling :mod:`training.pipeline`'s steps.

``tasks`` holds each step's glue (paths in, paths out, plain Python, tested without kfp),
``components`` wraps them as kfp components, ``graph`` wires the pipeline and compiles it to
``pipeline.yaml``, ``local`` runs it with kfp's local runner (``make pipeline-local``).
"""
