"""Scheduled tasks declared by a project, each run once per cluster.

A task's run is identified by its time slot; before running, a process claims the slot with a lock that
only one process can win: ``SET NX`` in Redis when Redis is configured, otherwise an exclusively created
file in the instance folder (one machine).

The scheduler cannot die: any exception from the lock or from a task is logged with its cause, the task
backs off (1 s, 2 s, 4 s, ... at most :data:`BACKOFF_MAX`, or the task's own ``backoff_max``) and the
loop goes on (a task with ``quiet_repeats`` logs a long run of failures in few lines). A lock that failed is
claimed again for the same slot after the back-off; a task that failed is run again after the back-off by
the process that ran it (in the same slot, or by whoever wins the next one). Each success and failure is
recorded for every process to read (see task_status.py).

One slow task does not hold up the others. The background loop only decides what is due and claims it;
each claimed run then goes on in a thread of its own (a greenlet under gevent), and a task whose previous
run is still going is not started again until it ends. A deadline that interrupts a run was the other
choice, but Python cannot stop a thread safely in the middle of a database call: a stuck run is instead
bounded where it waits (the database's ``lock_timeout``, the stores' timeouts) and, meanwhile, costs only
its own task. ``run_pending`` called directly (tests, ``conexoos tasks run``) still runs inline.
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
from typing import TYPE_CHECKING, Protocol

import redis
import sqlalchemy.exc
from flask import Flask

from .config import Settings
from .errors import ProjectError
from .lazy import lazy_module
from .services import NO_RETRY, Services
from .task_status import (
    LAG_FACTOR,
    LAG_MARGIN,
    STORE_TIMEOUT,
    FileStatusStore,
    MemoryStatusStore,
    RedisStatusStore,
    StatusBook,
    StatusStore,
    TaskStatus,
    describe_error,
    moment,
)

if TYPE_CHECKING:
    import croniter as croniter_module
else:
    croniter_module = lazy_module("croniter")  # and python-dateutil, six (0.6 MiB): for cron tasks only

log = logging.getLogger("conexoos.tasks")
TaskFunction = Callable[[], object]
STOP_TIMEOUT = 20.0
"""Seconds a stopping worker waits for a running task (within gunicorn's graceful timeout)."""
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 60.0
"""Seconds a task waits after its first failure in a row, doubled at each further one up to this bound."""


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
    failures: int = field(default=0, repr=False)
    """Failures in a row in this process (the lock's or the task's); 0 after a success."""
    retry_at: float = field(default=0.0, repr=False)
    claim_again: bool = field(default=False, repr=False)
    """The last claim raised: claim the current slot again once ``retry_at`` has passed."""
    run_again: bool = field(default=False, repr=False)
    """The last run raised: run it again in the same slot once ``retry_at`` has passed."""
    backoff_max: float | None = None
    """The longest wait after failures in a row; None is :data:`BACKOFF_MAX`. A task that must catch up
    soon after an outage (a write buffer's flush) sets a few seconds; one that calls a remote service
    that may stay down for hours (a payment provider) sets several minutes."""
    quiet_repeats: bool = False
    """Log a run of failures in few lines: the first at ERROR, then only the 2nd, 4th, 8th, ... in a row at
    WARNING (each saying since when), the others at DEBUG, and the success that ends it at INFO. Every
    failure is still recorded in the task's status (``conexoos tasks status``, ``/readyz``)."""
    failing_since: float = field(default=0.0, repr=False)
    """When the current run of failures began (0: none)."""

    def slot(self, now: float) -> int:
        """The identifier of the most recent time this task was due at ``now``."""
        if self.interval is not None:
            return math.floor(now / self.interval)
        if self.cron is None:
            raise ValueError(f"task {self.name!r} has neither an interval nor a cron expression")
        # get_prev() excludes its start: nudge it so that a task due at exactly ``now`` is due now.
        start = datetime.fromtimestamp(now, tz=UTC) + timedelta(microseconds=1)
        return int(croniter_module.croniter(self.cron, start).get_prev(float))

    def ttl(self) -> int:
        return int(self.interval * 2) + 1 if self.interval else 24 * 3600

    def next_due(self, after: float) -> float:
        """The first time after ``after`` that this task is due."""
        if self.interval is not None:
            return (math.floor(after / self.interval) + 1) * self.interval
        start = datetime.fromtimestamp(after, tz=UTC)
        return float(croniter_module.croniter(str(self.cron), start).get_next(float))

    def period(self, around: float) -> float:
        """Seconds between two runs (for a cron expression: the two after ``around``)."""
        if self.interval is not None:
            return self.interval
        first = self.next_due(around)
        return self.next_due(first) - first

    @property
    def schedule(self) -> str:
        """``every 15s`` or ``cron */5 * * * *``."""
        return f"every {self.interval:g}s" if self.interval is not None else f"cron {self.cron}"

    def backoff(self) -> float:
        """Seconds to wait after the current run of failures."""
        bound = BACKOFF_MAX if self.backoff_max is None else self.backoff_max
        return min(BACKOFF_FIRST * 2 ** max(self.failures - 1, 0), bound)


class ScheduleError(ProjectError, ValueError):
    """A task a project's ``Schedule`` cannot add: shown as one line naming it, not a traceback."""


def _require_callable(function: object) -> None:
    if not callable(function):
        raise ScheduleError(
            f"a task's function must be callable, got {function!r}: pass the function itself, not its name"
        )


class Scheduler:
    """Holds a project's tasks and runs the due ones in a background thread that survives any error."""

    def __init__(
        self, app: Flask, lock: SlotLock, tick: float = 0.25, status: StatusBook | None = None
    ) -> None:
        self._app = app
        self._lock = lock
        self._tick = tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.tasks: dict[str, Task] = {}
        self.status = status or StatusBook(MemoryStatusStore())
        self.lag_margin = LAG_MARGIN
        self._lock_failed = False
        """The lock raised during the current pass: the other tasks' claims wait for the next pass, rather
        than each waiting for a frozen Redis's timeout in turn (which delayed every retry by as much)."""
        self._runs: dict[str, threading.Thread] = {}
        """Runs started by the background loop, by task name, while they go on."""

    def every(
        self,
        seconds: float,
        function: TaskFunction,
        name: str | None = None,
        backoff_max: float | None = None,
        quiet_repeats: bool = False,
    ) -> Task:
        """Run ``function`` every ``seconds`` seconds, aligned to the clock; after failures, wait at most
        ``backoff_max`` seconds (default :data:`BACKOFF_MAX`) before trying again; ``quiet_repeats`` logs
        a run of failures in few lines (see :attr:`Task.quiet_repeats`)."""
        _require_callable(function)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds > 0:
            raise ScheduleError(f"task interval must be a positive number of seconds, got {seconds!r}")
        task = Task(
            name or function.__name__,
            function,
            interval=float(seconds),
            backoff_max=backoff_max,
            quiet_repeats=quiet_repeats,
        )
        return self._add(task)

    def cron(self, expression: str, function: TaskFunction, name: str | None = None) -> Task:
        """Run ``function`` on a five-field cron ``expression``, evaluated in UTC."""
        _require_callable(function)
        if not isinstance(expression, str) or not croniter_module.croniter.is_valid(expression):
            raise ScheduleError(f"invalid cron expression {expression!r}")
        try:
            croniter_module.croniter(expression, datetime.now(UTC)).get_next(float)
        except croniter_module.CroniterBadDateError:
            raise ScheduleError(f"the cron expression {expression!r} never fires (no such date)") from None
        return self._add(Task(name or function.__name__, function, cron=expression))

    def _add(self, task: Task) -> Task:
        if task.name in self.tasks:
            raise ScheduleError(f"a task named {task.name!r} is already scheduled")
        self.tasks[task.name] = task
        return task

    def run_pending(self, now: float | None = None) -> list[str]:
        """Run every task whose slot changed since it was last seen and whose slot this process wins.

        Never raises: a lock or a task that fails is logged, recorded and retried after a back-off.
        """
        now = time.time() if now is None else now
        self._lock_failed = False
        return [task.name for task in list(self.tasks.values()) if self._run_if_due(task, now, self._run)]

    def start_pending(self, now: float | None = None) -> list[str]:
        """Like :meth:`run_pending`, but each run goes on in a thread of its own; a task still running is
        left alone until its run ends. The names of the runs started."""
        now = time.time() if now is None else now
        self._lock_failed = False
        for name, thread in list(self._runs.items()):
            if not thread.is_alive():
                del self._runs[name]
        idle = [task for task in list(self.tasks.values()) if task.name not in self._runs]
        return [task.name for task in idle if self._run_if_due(task, now, self._start_run)]

    def _start_run(self, task: Task, now: float) -> None:
        thread = threading.Thread(
            target=self._run, args=(task, now), name=f"conexoos-task-{task.name}", daemon=True
        )
        self._runs[task.name] = thread
        thread.start()

    def running(self) -> list[str]:
        """The tasks whose run, started by the background loop, is still going on."""
        return [name for name, thread in self._runs.items() if thread.is_alive()]

    def _run_if_due(self, task: Task, now: float, run: Callable[[Task, float], None]) -> bool:
        try:
            slot = task.slot(now)
            if not self._due(task, slot, now):
                return False
            # A run that failed in this slot is run again here: this process holds the slot's claim.
            retry = slot == task.last_slot and task.run_again
            task.last_slot = slot
            if not retry and not self._claim(task, slot, now):
                return False
            # Which process ran which slot: with several hosts, each slot must appear in one host's log.
            log.debug("scheduled task %s runs slot %d%s", task.name, slot, " again" if retry else "")
            run(task, now)
            return True
        except Exception as error:  # noqa: BLE001 (nothing may end the scheduler thread)
            self._failed(task, now, "scheduling", error)
            return False

    @staticmethod
    def _due(task: Task, slot: int, now: float) -> bool:
        if task.last_slot is None:
            task.last_slot = slot  # the first look only sets the baseline: no burst at start-up
            return False
        if now < task.retry_at:
            return False
        return slot != task.last_slot or task.claim_again or task.run_again

    def _claim(self, task: Task, slot: int, now: float) -> bool:
        task.run_again = False  # a new slot: whoever wins it runs the task
        if self._lock_failed:
            task.claim_again = True  # claimed in the next pass, not counted as a failure
            return False
        try:
            won = self._lock.claim(task.name, slot, task.ttl())
        except Exception as error:  # noqa: BLE001 (Redis, the disk, any lock's fault: retried later)
            task.claim_again, self._lock_failed = True, True
            self._failed(task, now, "lock", error)
            return False
        task.claim_again = False
        return won

    def _run(self, task: Task, now: float) -> None:
        try:
            with self._app.app_context():
                task.function()
        except Exception as error:  # noqa: BLE001 (a failing task must not stop the others)
            task.run_again = True
            self._failed(task, now, "task", error)
            return
        if task.quiet_repeats and task.failures > 1:
            log.info(
                "scheduled task %s succeeded again, after %d failures in a row since %s",
                task.name, task.failures, _utc(task.failing_since),
            )  # fmt: skip
        task.failures, task.retry_at, task.run_again, task.failing_since = 0, 0.0, False, 0.0
        self.status.record(task.name, last_success=repr(time.time()), failures="0")

    def _failed(self, task: Task, now: float, stage: str, error: Exception) -> None:
        task.failures += 1
        delay = task.backoff()
        task.retry_at = now + delay
        reason = " ".join(describe_error(error).split())  # a driver's message may span lines
        # One line per failure. The lock's failure, and a fault of what a task depends on (Redis, the
        # database: down, frozen, a lock timeout), are said by their cause alone; the traceback of anything
        # else (a bug) once per run of failures, so that a long outage cannot flood the log.
        traceback = task.failures == 1 and stage != "lock" and not is_dependency_fault(error)
        if task.failures == 1:
            task.failing_since = now
        level, since = _failure_level(task), ""
        if level != logging.ERROR:
            since = f" since {_utc(task.failing_since)} (the ones between are in the task's status alone)"
        log.log(
            level,
            "scheduled task %s failed (%s: %s); failure %d in a row%s, retrying in %.0f s",
            task.name,
            stage,
            reason,
            task.failures,
            since,
            delay,
            exc_info=error if traceback else None,
        )
        self.status.record(
            task.name, last_failure=repr(time.time()), error=f"{stage}: {reason}", failures=str(task.failures)
        )

    def statuses(self, now: float) -> list[TaskStatus]:
        """Every task's last success, last failure and lag, from the records every process shares."""
        records = self.status.read(self.tasks)
        return [self._status(task, records.get(task.name, {}), now) for task in self.tasks.values()]

    def _status(self, task: Task, record: dict[str, str], now: float) -> TaskStatus:
        succeeded, started = moment(record, "last_success"), moment(record, "started")
        reference = max((m.timestamp() for m in (succeeded, started) if m is not None), default=None)
        lag = None if reference is None else max(0.0, now - task.next_due(reference))
        period = task.period(now)
        return TaskStatus(
            name=task.name,
            schedule=task.schedule,
            period=period,
            last_success=succeeded,
            last_failure=moment(record, "last_failure"),
            last_error=" ".join(record.get("error", "").split()),  # one line, whoever wrote the record
            failures=int(record.get("failures", "0") or 0),
            lag=lag,
            lagging=lag is not None and lag > LAG_FACTOR * period + self.lag_margin,
            source=self.status.source,
        )

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
        deadline = time.monotonic() + timeout
        thread.join(timeout=timeout)
        for run in list(self._runs.values()):
            run.join(timeout=max(0.0, deadline - time.monotonic()))
        still = sorted(self.running())
        if thread.is_alive() or still:
            log.warning(
                "the task scheduler did not stop within %.0f s: still running: %s",
                timeout,
                ", ".join(still) or "the scheduler loop",
            )
            return False
        self._runs.clear()
        return True

    def _loop(self) -> None:
        started = repr(time.time())
        for name in self.tasks:
            self.status.record(name, started=started)  # lag counts from here until a first success
        while not self._stop.wait(self._tick):
            try:
                self.start_pending()
            except Exception:  # broad on purpose: run_pending catches per task; this is the last guard
                log.exception("task scheduler: unexpected error; the scheduler goes on")


def _failure_level(task: Task) -> int:
    """The level of a failure's line: ERROR, except for a task with ``quiet_repeats``, whose repeats are
    a WARNING at the 2nd, 4th, 8th, ... failure in a row and DEBUG between."""
    if not task.quiet_repeats or task.failures == 1:
        return logging.ERROR
    return logging.DEBUG if task.failures & (task.failures - 1) else logging.WARNING


def _utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class ServiceFault(RuntimeError):
    """What a task raises when a remote service it depends on failed (a payment provider, a mail server):
    the run is a failure like any other (recorded in the task's status, run again after the back-off),
    logged in one line, its message and cause, without a traceback: it is no bug."""


DEPENDENCY_FAULTS: tuple[type[BaseException], ...] = (
    ServiceFault,
    redis.RedisError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    ConnectionError,
    TimeoutError,
)
"""Errors that say a server the tasks use failed, not the task's code: logged without a traceback."""


def is_dependency_fault(error: BaseException) -> bool:
    """Whether ``error`` is a fault of Redis or the database (their cause says all there is to say)."""
    return isinstance(error, DEPENDENCY_FAULTS)


def status_store(settings: Settings, services: Services) -> StatusStore:
    """Redis when configured (its own client, with short timeouts), else the instance folder."""
    if services.has("redis"):
        return RedisStatusStore(task_redis(services), prefix=settings.key_prefix)
    return FileStatusStore(Path(settings.instance_path) / "task-status")


def slot_lock(settings: Settings, services: Services) -> SlotLock:
    """Redis when configured (its own client, with short timeouts), else files in the instance folder."""
    if services.has("redis"):
        return RedisSlotLock(task_redis(services), prefix=settings.key_prefix)
    return FileSlotLock(Path(settings.instance_path) / "task-slots")


def task_redis(services: Services) -> redis.Redis:
    """The scheduler's Redis client (slot claims, task records): STORE_TIMEOUT to connect and to answer,
    never a retry. A frozen Redis fails a claim within STORE_TIMEOUT, so "retrying in 1 s" is what
    happens (the app's general client, 5 s and its retries, made it 10 s)."""
    return redis.Redis.from_url(
        services.redis_url,
        socket_timeout=STORE_TIMEOUT,
        socket_connect_timeout=STORE_TIMEOUT,
        retry=NO_RETRY,  # redis-py's default retries would multiply STORE_TIMEOUT
    )
