"""Large bodies go to low-priority batch processes, so small requests never wait behind them.

Behaviour, not speed: a single name is answered while a big batch is still in flight, the batch
processes run at a lower CPU priority than the HTTP workers, their telemetry reaches ``/metrics``,
and a batch process that dies is replaced.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from nameorigin.config import Settings
from nameorigin.server.app import INLINE_BODY_LIMIT, create_app
from nameorigin.server.metrics import PrometheusTelemetry
from nameorigin.server.offload import BATCH_NICENESS, RecordingTelemetry, replay

from .conftest import StartServer

BIG_BATCH = 50_000


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (from /proc)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text(encoding="utf-8").split()]


def test_recorded_telemetry_replays_into_prometheus() -> None:
    recorder = RecordingTelemetry()
    recorder.names_classified("/predict", 7)
    recorder.model_latency("/predict", 0.25)
    recorder.error("/predict", "validation_error", 422)
    metrics = PrometheusTelemetry()
    replay(recorder.drain(), metrics)
    assert recorder.drain() == []
    route = {"route": "/predict"}
    assert metrics.registry.get_sample_value("nameorigin_names_classified_total", route) == 7
    assert metrics.registry.get_sample_value("nameorigin_model_duration_seconds_sum", route) == 0.25
    errors = {"route": "/predict", "kind": "validation_error", "status": "422"}
    assert metrics.registry.get_sample_value("nameorigin_errors_total", errors) == 1


def test_a_large_body_is_answered_by_a_batch_process_like_a_small_one(
    committed_model_dir: Path,
) -> None:
    app = create_app(Settings(model_dir=committed_model_dir, http_workers=1))
    app.models.load()
    names = ["Jordan", "Nguyen", "Schmidt"] * 100  # body over INLINE_BODY_LIMIT
    transport = httpx.ASGITransport(app=app)

    async def both() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            big = await client.post("/predict", json={"names": names, "top_k": 2}, timeout=60)
            small = await client.post("/predict", json={"names": names[:3], "top_k": 2})
            return big, small

    try:
        big, small = asyncio.run(both())
    finally:
        assert app.batches is not None
        app.batches.shutdown()
    assert len(big.request.content) > INLINE_BODY_LIMIT >= len(small.request.content)
    assert big.status_code == small.status_code == 200
    assert big.json()["results"][:3] == small.json()["results"]
    # counted by the batch process, replayed into this app's metrics
    sample = app.metrics.registry.get_sample_value
    assert sample("nameorigin_names_classified_total", {"route": "/predict"}) == 303


@pytest.mark.slow
def test_single_names_are_answered_while_a_big_batch_is_in_flight(
    start_server: StartServer,
) -> None:
    server = start_server(NAMEORIGIN_MAX_BATCH_NAMES=str(BIG_BATCH), NAMEORIGIN_HTTP_WORKERS="1")
    server.wait_until("/v2/health/ready")
    names = [f"Name{index % 977}" for index in range(BIG_BATCH)]
    with server.client(timeout=120) as client, ThreadPoolExecutor(1) as pool:
        client.post("/predict", json={"names": names[:2000]})  # the batch process is up
        batch = pool.submit(client.post, "/predict", json={"names": names})
        deadline = time.monotonic() + 30
        while "nameorigin_http_requests_in_flight 1.0" not in client.get("/metrics").text:
            assert time.monotonic() < deadline and not batch.done()
        answered_during_batch = 0
        while not batch.done():
            answer = client.post("/get_prediction", json={"name": "Jordan"})
            assert answer.status_code == 200
            answered_during_batch += not batch.done()
        assert batch.result().status_code == 200
    # HOL blocking would answer at most one single name, after the batch
    assert answered_during_batch >= 3


@pytest.mark.slow
def test_batch_processes_run_at_lower_priority_and_are_replaced_when_they_die(
    start_server: StartServer,
) -> None:
    server = start_server(NAMEORIGIN_HTTP_WORKERS="1")
    server.wait_until("/v2/health/ready")
    names = {"names": ["Jordan"] * 500}
    with server.client() as client:
        assert client.post("/predict", json=names).status_code == 200
        (batch_pid,) = [pid for pid in children(server.process.pid) if "spawn_main" in cmdline(pid)]
        worker_nice = os.getpriority(os.PRIO_PROCESS, server.process.pid)
        assert os.getpriority(os.PRIO_PROCESS, batch_pid) == worker_nice + BATCH_NICENESS
        os.kill(batch_pid, signal.SIGKILL)
        answers = [client.post("/predict", json=names).status_code for _ in range(2)]
        assert client.post("/get_prediction", json={"name": "Jordan"}).status_code == 200
    assert answers[-1] == 200  # a new batch process took over
    assert set(answers) <= {200, 503}


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_zero_batch_processes_keeps_every_request_in_the_worker(committed_model_dir: Path) -> None:
    settings = Settings.from_environ(
        {"NAMEORIGIN_MODEL_DIR": str(committed_model_dir), "NAMEORIGIN_BATCH_PROCESSES": "0"}
    )
    assert create_app(settings).batches is None  # the benchmarks' one-process baseline
    assert create_app(Settings(model_dir=committed_model_dir)).batches is not None
