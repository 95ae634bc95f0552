"""A line anyone can cause is logged at most once a while, and the next one says how many were left out."""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace

import pytest

from conexoos.framework.log_throttle import ThrottledLog
from conexoos.framework.realtime import JoinDeadline


def test_lines_within_the_interval_are_counted_and_said_with_the_next(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="tests.throttle")
    throttled = ThrottledLog(logging.getLogger("tests.throttle"), seconds=0.3)
    for number in range(5):
        throttled.warning("packet %d is malformed", number)
    time.sleep(0.35)
    throttled.warning("packet %d is malformed", 5)
    assert [record.getMessage() for record in caplog.records] == [
        "packet 0 is malformed",
        "packet 5 is malformed (4 more like it in the last 0.3 s not logged)",
    ]


def test_sockets_closed_for_joining_nothing_are_reported_once_a_while(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Anyone can open Socket.IO connections that join no namespace, a sweep every few seconds closes
    them: the line saying so is throttled like the warnings (it was written at every sweep)."""
    caplog.set_level(logging.INFO, logger="conexoos.realtime")
    connections: dict[str, dict[str, str]] = {}
    deadline = _Unjoined(SimpleNamespace(server=SimpleNamespace(environ=connections)), timeout=1)
    for sweep in range(3):
        connections[f"sid{sweep}"] = {}
        deadline.deadlines[f"sid{sweep}"] = 0.0
        assert deadline.sweep(now=10.0 + sweep) == [f"sid{sweep}"]
    assert [record.getMessage() for record in caplog.records] == [
        "closed 1 Socket.IO connection(s) that joined no namespace"
    ]


class _Unjoined(JoinDeadline):
    """The sweep's bookkeeping without a Socket.IO server: no connection has joined, closing is a no-op."""

    def joined(self, eio_sid: str) -> bool:
        return False

    def close(self, eio_sid: str) -> None:
        return None
