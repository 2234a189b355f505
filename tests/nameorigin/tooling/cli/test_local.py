"""``poll``'s stop: a signal ends the loop after the batch in hand; a second one at once."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from nameorigin.tooling.cli.local import stop_on_signals


@pytest.fixture
def restored_handlers() -> Iterator[None]:
    """Put pytest's own SIGINT/SIGTERM handlers back after the test installs the poller's."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_asks_the_loop_to_stop(signum: int, restored_handlers: None) -> None:
    stop = stop_on_signals()
    assert not stop.is_set()
    os.kill(os.getpid(), signum)
    assert stop.wait(timeout=5)


def test_a_second_signal_stops_at_once(restored_handlers: None) -> None:
    stop = stop_on_signals()
    os.kill(os.getpid(), signal.SIGTERM)
    assert stop.wait(timeout=5)
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)  # the handler runs here at the latest


def test_an_ignored_sigint_is_taken_back(restored_handlers: None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a parent that ignores Ctrl-C leaves it
    stop = stop_on_signals()
    os.kill(os.getpid(), signal.SIGINT)
    assert stop.wait(timeout=5)
