"""The benchmark suite's own bookkeeping (the measurements themselves run in ``make bench``)."""

from __future__ import annotations

import pytest

from benchmarks.suite import hey_request_count


@pytest.mark.parametrize(
    ("requests", "concurrency", "sent"),
    [(2000, 32, 1984), (2000, 8, 2000), (4000, 32, 4000), (10, 32, 32), (33, 32, 32)],
)
def test_hey_is_asked_for_whole_rounds_of_its_connections(
    requests: int, concurrency: int, sent: int
) -> None:
    count = hey_request_count(requests, concurrency)
    assert count == sent
    assert count % concurrency == 0  # hey sends count // concurrency on each connection
