"""Stopping the task scheduler (a worker on SIGTERM) lets a running task finish instead of cutting it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from conexoos.framework.tasks import Scheduler
from tests.conftest import AppFactory
from tests.framework.test_tasks import MemoryLock


def slow_task_scheduler(make_app: AppFactory, project: Path, seconds: float) -> tuple[Scheduler, list[str]]:
    started = threading.Event()
    finished: list[str] = []

    def slow() -> None:
        started.set()
        time.sleep(seconds)
        finished.append("done")

    scheduler = Scheduler(make_app(project), MemoryLock(), tick=0.02)
    scheduler.every(0.05, slow, name="slow")
    scheduler.start()
    assert started.wait(5), "the task never started"
    return scheduler, finished


def test_stop_waits_for_the_running_task(make_app: AppFactory, bare_project: Path) -> None:
    scheduler, finished = slow_task_scheduler(make_app, bare_project, 0.5)
    assert scheduler.stop() is True
    assert finished == ["done"]


def test_stop_reports_a_task_that_outlives_its_timeout(make_app: AppFactory, bare_project: Path) -> None:
    scheduler, finished = slow_task_scheduler(make_app, bare_project, 1.0)
    assert scheduler.stop(timeout=0.1) is False
    assert finished == []
    time.sleep(1.2)
    assert finished == ["done"]  # it was never killed, only no longer waited for
