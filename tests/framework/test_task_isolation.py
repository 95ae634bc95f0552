"""One slow task does not hold up the others, and a fault of Redis or the database is logged as one line.

The background loop starts each claimed run in a thread of its own; a task still running is not started
again until its run ends (see the docstring of framework/tasks.py)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import redis
from flask import Flask
from sqlalchemy.exc import OperationalError

from conexoos.framework.tasks import Scheduler, ServiceFault
from tests.conftest import AppFactory

from .helpers import wait_until
from .test_task_faults import FaultyLock
from .test_tasks import MemoryLock


@pytest.fixture
def app(make_app: AppFactory, bare_project: Path) -> Flask:
    return make_app(bare_project)


def test_a_stuck_task_does_not_stop_the_other_tasks(app: Flask) -> None:
    release = threading.Event()
    stuck_runs: list[float] = []
    quick_runs: list[float] = []

    def stuck() -> None:  # a roll-up waiting on a row lock
        stuck_runs.append(time.monotonic())
        release.wait(30)

    scheduler = Scheduler(app, MemoryLock(), tick=0.05)
    scheduler.every(0.2, stuck, name="rollup")
    scheduler.every(0.2, lambda: quick_runs.append(time.monotonic()), name="mail-outbox")
    scheduler.start()
    try:
        assert wait_until(lambda: len(quick_runs) >= 5, 10), quick_runs
        assert stuck_runs and scheduler.running() == ["rollup"]
        assert len(stuck_runs) == 1, "a task still running is not started again"
    finally:
        release.set()
        assert scheduler.stop(timeout=10)
    assert scheduler.running() == []


def test_stop_waits_for_the_runs_it_started_and_says_which_one_is_left(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    release = threading.Event()
    started = threading.Event()

    def slow() -> None:
        started.set()
        release.wait(30)

    scheduler = Scheduler(app, MemoryLock(), tick=0.05)
    scheduler.every(0.2, slow, name="account-export")
    scheduler.start()
    try:
        assert started.wait(10)
        with caplog.at_level("WARNING", logger="conexoos.tasks"):
            assert scheduler.stop(timeout=0.3) is False
        assert "still running: account-export" in caplog.text
    finally:
        release.set()


@pytest.mark.parametrize(
    "fault",
    [
        redis.ConnectionError("Error 111 connecting to 127.0.0.1:6390. Connection refused."),
        OperationalError(
            "UPDATE stats_watermark SET x=1",
            {},
            Exception("canceling statement due to lock timeout\nCONTEXT: while updating tuple (0,1)"),
        ),
        ServiceFault("Stripe could not be asked about 2 subscription(s): Connection refused"),
    ],
    ids=["redis lock", "database lock timeout", "remote service"],
)
def test_a_fault_of_redis_the_database_or_a_remote_service_is_one_line_without_traceback(
    app: Flask, caplog: pytest.LogCaptureFixture, fault: Exception
) -> None:
    lock = FaultyLock()

    def task() -> None:
        raise fault

    scheduler = Scheduler(app, lock)
    scheduler.every(1, task, name="rollup")
    if isinstance(fault, redis.RedisError):
        lock.fault = fault
    scheduler.run_pending(now=0.0)
    with caplog.at_level("ERROR", logger="conexoos.tasks"):
        for now in (1.0, 2.0, 4.0):
            scheduler.run_pending(now=now)
    assert len(caplog.records) == 3
    for record in caplog.records:
        assert record.exc_info is None
        assert "\n" not in record.getMessage()
        assert record.getMessage().startswith("scheduled task rollup failed (")
    assert ("lock timeout" in caplog.text) or ("Connection refused" in caplog.text)


def test_a_bug_in_a_task_still_shows_its_traceback_once(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    def task() -> None:
        raise KeyError("missing")

    scheduler = Scheduler(app, MemoryLock())
    scheduler.every(1, task, name="buggy")
    scheduler.run_pending(now=0.0)
    with caplog.at_level("ERROR", logger="conexoos.tasks"):
        for now in (1.0, 2.0, 4.0):
            scheduler.run_pending(now=now)
    assert [bool(record.exc_info) for record in caplog.records] == [True, False, False]
