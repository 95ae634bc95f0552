"""Scheduled tasks declared by a project, each run once per cluster.

A task's run is identified by its time slot; before running, a process claims the slot with a lock that
only one process can win: ``SET NX`` in Redis when Redis is configured, otherwise an exclusively created
file in the instance folder (one machine).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from croniter import croniter
from flask import Flask

log = logging.getLogger("conexoos.tasks")
TaskFunction = Callable[[], object]
STOP_TIMEOUT = 20.0
"""Seconds a stopping worker waits for a running task (within gunicorn's graceful timeout)."""


class SlotLock(Protocol):
    """Grants a (task, slot) pair to exactly one caller across the cluster."""

    def claim(self, task: str, slot: int, ttl: int) -> bool: ...


class RedisSlotLock:
    """Slot claims with Redis ``SET NX EX``."""

    def __init__(self, client: object, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    def claim(self, task: str, slot: int, ttl: int) -> bool:
        key = f"{self._prefix}task:{task}:{slot}"
        return bool(self._client.set(key, os.getpid(), nx=True, ex=max(ttl, 1)))  # type: ignore[attr-defined]


class FileSlotLock:
    """Slot claims as files created with ``O_EXCL`` (processes on one machine)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def claim(self, task: str, slot: int, ttl: int) -> bool:
        self._folder.mkdir(parents=True, exist_ok=True)
        path = self._folder / f"{task}.{slot}"
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            return False
        self._prune(task, slot)
        return True

    def _prune(self, task: str, slot: int) -> None:
        for old in self._folder.glob(f"{task}.*"):
            suffix = old.suffix.lstrip(".")
            if suffix.isdigit() and int(suffix) < slot:
                old.unlink(missing_ok=True)


@dataclass
class Task:
    """A function with its schedule: every ``interval`` seconds, or a cron expression (UTC)."""

    name: str
    function: TaskFunction
    interval: float | None = None
    cron: str | None = None
    last_slot: int | None = field(default=None, repr=False)

    def slot(self, now: float) -> int:
        """The identifier of the most recent time this task was due at ``now``."""
        if self.interval is not None:
            return math.floor(now / self.interval)
        if self.cron is None:
            raise ValueError(f"task {self.name!r} has neither an interval nor a cron expression")
        # get_prev() excludes its start: nudge it so that a task due at exactly ``now`` is due now.
        start = datetime.fromtimestamp(now, tz=UTC) + timedelta(microseconds=1)
        return int(croniter(self.cron, start).get_prev(float))

    def ttl(self) -> int:
        return int(self.interval * 2) + 1 if self.interval else 24 * 3600


class Scheduler:
    """Holds a project's tasks and runs the due ones in a background thread."""

    def __init__(self, app: Flask, lock: SlotLock, tick: float = 0.25) -> None:
        self._app = app
        self._lock = lock
        self._tick = tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.tasks: dict[str, Task] = {}

    def every(self, seconds: float, function: TaskFunction, name: str | None = None) -> Task:
        """Run ``function`` every ``seconds`` seconds, aligned to the clock."""
        if seconds <= 0:
            raise ValueError(f"task interval must be positive, got {seconds}")
        return self._add(Task(name or function.__name__, function, interval=float(seconds)))

    def cron(self, expression: str, function: TaskFunction, name: str | None = None) -> Task:
        """Run ``function`` on a five-field cron ``expression``, evaluated in UTC."""
        if not croniter.is_valid(expression):
            raise ValueError(f"invalid cron expression {expression!r}")
        return self._add(Task(name or function.__name__, function, cron=expression))

    def _add(self, task: Task) -> Task:
        if task.name in self.tasks:
            raise ValueError(f"a task named {task.name!r} is already scheduled")
        self.tasks[task.name] = task
        return task

    def run_pending(self, now: float | None = None) -> list[str]:
        """Run every task whose slot changed since it was last seen and whose slot this process wins."""
        now = time.time() if now is None else now
        ran = []
        for task in self.tasks.values():
            slot = task.slot(now)
            if task.last_slot is None:
                task.last_slot = slot  # the first look only sets the baseline: no burst at start-up
                continue
            if slot == task.last_slot:
                continue
            task.last_slot = slot
            if self._lock.claim(task.name, slot, task.ttl()):
                self._run(task)
                ran.append(task.name)
        return ran

    def _run(self, task: Task) -> None:
        with self._app.app_context():
            try:
                task.function()
            except Exception:
                # A failing task must not stop the others; the traceback goes to the error log.
                log.exception("scheduled task %s failed", task.name)

    def start(self) -> None:
        """Start the background thread (idempotent; a stopped scheduler can be started again)."""
        if self._thread is not None or not self.tasks:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="conexoos-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """Stop the background thread, letting a running task finish; False if it is still running."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        thread.join(timeout=timeout)
        if thread.is_alive():
            log.warning("the task scheduler did not stop within %.0f s: a task is still running", timeout)
            return False
        return True

    def _loop(self) -> None:
        while not self._stop.wait(self._tick):
            self.run_pending()
