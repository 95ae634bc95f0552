"""A line anyone can cause is logged at most once a while, and the next one says how many were left out."""

from __future__ import annotations

import logging
import time

import pytest

from conexoos.framework.log_throttle import ThrottledLog


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
