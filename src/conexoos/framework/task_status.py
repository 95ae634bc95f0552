"""What every scheduled task did last, readable by every worker and host: last success, last failure, lag.

The scheduler records each run in a shared store: a Redis hash per task (``<prefix>task-status:<name>``)
when Redis is configured, otherwise a JSON file per task in ``<instance>/task-status/`` (one machine).
Recording never stops the scheduler: when the store fails (Redis down, disk full) the record is kept in
this process's memory, flushed at the next record that succeeds, and reports say where it comes from.

``/readyz``, ``conexoos tasks status`` and any admin page read :func:`task_statuses`.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import redis
from flask import Flask

from .causes import one_line_cause

log = logging.getLogger("conexoos.tasks")
Record = dict[str, str]
"""A task's stored fields: ``started``, ``last_success``, ``last_failure`` (epoch seconds), ``error``,
``failures`` (consecutive)."""
STORE_TIMEOUT = 0.5
"""Seconds a status read or write waits for Redis (once, no retry): a frozen Redis must not hold up /readyz
or a task."""
LAG_FACTOR = 2.0
LAG_MARGIN = 60.0
"""A task lags when it is more than ``LAG_FACTOR`` periods (plus ``LAG_MARGIN`` seconds) past due:
about three missed runs, so one slow or failed run is not an alert."""
TIMESTAMPS = ("started", "last_success", "last_failure")


class StatusStore(Protocol):
    """Where task records are shared between processes."""

    description: str
    place: str
    """Where exactly, for a report that the records cannot be read (``Redis at host:port``)."""

    def write(self, task: str, fields: Record) -> None: ...

    def read(self, tasks: Iterable[str]) -> dict[str, Record]: ...


class MemoryStatusStore:
    """Records in this process only (a scheduler built without a shared store, as in tests)."""

    description = place = "this process's memory"

    def __init__(self) -> None:
        self._records: dict[str, Record] = defaultdict(dict)

    def write(self, task: str, fields: Record) -> None:
        self._records[task].update(fields)

    def read(self, tasks: Iterable[str]) -> dict[str, Record]:
        return {task: dict(self._records[task]) for task in tasks if task in self._records}


class RedisStatusStore:
    """One Redis hash per task, ``<prefix>task-status:<task>``."""

    description = "Redis"

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        address = client.connection_pool.connection_kwargs
        self.place = f"Redis at {address.get('host', 'localhost')}:{address.get('port', 6379)}"

    def write(self, task: str, fields: Record) -> None:
        self._client.hset(self._key(task), mapping=fields)  # type: ignore[arg-type]

    def read(self, tasks: Iterable[str]) -> dict[str, Record]:
        names = list(tasks)
        pipeline = self._client.pipeline(transaction=False)
        for task in names:
            pipeline.hgetall(self._key(task))
        found = pipeline.execute()
        return {task: _decoded(record) for task, record in zip(names, found, strict=True) if record}

    def _key(self, task: str) -> str:
        return f"{self._prefix}task-status:{task}"


class FileStatusStore:
    """One JSON file per task in a folder, updated under an exclusive ``flock`` (processes on one machine)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self.description = self.place = f"the instance folder ({folder})"

    def write(self, task: str, fields: Record) -> None:
        self._folder.mkdir(parents=True, exist_ok=True)
        with open(self._folder / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            record = self._load(task)
            record.update(fields)
            temporary = self._folder / f".{task}.{os.getpid()}.tmp"
            temporary.write_text(json.dumps(record, sort_keys=True))
            os.replace(temporary, self._path(task))  # readers see the old or the new file, never half

    def read(self, tasks: Iterable[str]) -> dict[str, Record]:
        return {task: record for task in tasks if (record := self._load(task))}

    def _load(self, task: str) -> Record:
        try:
            return {str(k): str(v) for k, v in json.loads(self._path(task).read_text()).items()}
        except FileNotFoundError:
            return {}

    def _path(self, task: str) -> Path:
        return self._folder / f"{task}.json"


def _decoded(record: dict[Any, Any]) -> Record:
    return {_text(key): _text(value) for key, value in record.items()}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class StatusBook:
    """The scheduler's records: written to the shared store, kept in memory while that store fails."""

    def __init__(self, store: StatusStore) -> None:
        self.store = store
        self.store_error: str | None = None
        self._memory: dict[str, Record] = defaultdict(dict)
        self._unsaved: dict[str, Record] = defaultdict(dict)
        self._lock = threading.Lock()

    def record(self, task: str, **fields: str) -> None:
        """Remember ``fields`` of ``task``, then write everything not yet saved to the store."""
        with self._lock:
            self._memory[task].update(fields)
            self._unsaved[task].update(fields)
            unsaved = {name: dict(values) for name, values in self._unsaved.items()}
        try:
            for name, values in unsaved.items():
                self.store.write(name, values)
        except Exception as error:  # noqa: BLE001 (Redis, the disk, anything: recording must not kill)
            self._store_failed("write", error)
            return
        with self._lock:
            for name, values in unsaved.items():
                if self._unsaved.get(name) == values:
                    del self._unsaved[name]
        if self.store_error is not None:
            log.warning("task status: %s answers again; records written", self.store.description)
            self.store_error = None

    def read(self, tasks: Iterable[str]) -> dict[str, Record]:
        """Every task's record: the store's, with this process's newer knowledge laid over it."""
        names = list(tasks)
        try:
            stored = self.store.read(names)
        except Exception as error:  # noqa: BLE001 (a report must come back when the store is down)
            self._store_failed("read", error)
            stored = {}
        with self._lock:
            memory = {name: dict(self._memory[name]) for name in names if name in self._memory}
        return {name: merge(stored.get(name, {}), memory.get(name, {})) for name in names}

    def _store_failed(self, action: str, error: Exception) -> None:
        reason = describe_error(error)
        if self.store_error != reason:
            log.warning(
                "task status: cannot %s %s (%s); keeping the records in this process's memory",
                action,
                self.store.description,
                reason,
            )
        self.store_error = reason

    @property
    def source(self) -> str:
        """Where the records come from, for reports."""
        if self.store_error is None:
            return self.store.description
        return f"this process's memory ({self.store.description} unavailable: {self.store_error})"


def merge(stored: Record, known: Record) -> Record:
    """``stored`` with ``known``'s newer fields: latest timestamps, and the error of the latest failure."""
    merged = dict(stored)
    for field_name in TIMESTAMPS:
        if _seconds(known, field_name) > _seconds(merged, field_name):
            merged[field_name] = known[field_name]
    if "last_failure" in known and known["last_failure"] == merged.get("last_failure"):
        merged.update({k: known[k] for k in ("error", "failures") if k in known})
    if _seconds(merged, "last_success") > _seconds(merged, "last_failure"):
        merged["failures"] = "0"
    return merged


def _seconds(record: Record, field_name: str) -> float:
    try:
        return float(record.get(field_name, "") or 0.0)
    except ValueError:
        return 0.0


def describe_error(error: BaseException) -> str:
    """``Type: message``, followed by its causes (``from``), on one line."""
    parts: list[str] = []
    seen: BaseException | None = error
    while seen is not None and len(parts) < 4:
        text = one_line_cause(seen)
        if not parts or not parts[-1].startswith(text.split(" CONTEXT:")[0]):  # a driver's error under
            parts.append(text)  # SQLAlchemy's says the same again: once is enough
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    return " <- caused by ".join(parts)[:500]


FAILING_IN_A_ROW = 3
"""Failures in a row (none succeeded since) from which ``conexoos tasks status`` calls a task FAILING."""


@dataclass(frozen=True)
class TaskStatus:
    """One task as an operator sees it (for /readyz, ``conexoos tasks status`` and the admin overview)."""

    name: str
    schedule: str
    period: float
    last_success: datetime | None
    last_failure: datetime | None
    last_error: str
    failures: int
    lag: float | None
    """Seconds past the first time the task was due after its last success (or its scheduler's start);
    None when no scheduler has recorded it yet."""
    lagging: bool
    source: str

    @property
    def failing(self) -> bool:
        """Whether its last :data:`FAILING_IN_A_ROW` runs or more failed, none succeeding since: it may
        not lag yet (a retry is due soon), but it does not work."""
        if self.failures < FAILING_IN_A_ROW or self.last_failure is None:
            return False
        return self.last_success is None or self.last_failure > self.last_success

    @property
    def state(self) -> str:
        """``OK``, ``LAGGING``, ``FAILING`` or ``NEVER RUN`` (no scheduler has recorded this task)."""
        if self.lagging:
            return "LAGGING"
        if self.failing:
            return "FAILING"
        return "NEVER RUN" if self.lag is None else "OK"

    def line(self) -> str:
        """One line: name, schedule, last success, last failure and reason, lag, state."""
        failure = "never" if self.last_failure is None else f"{_when(self.last_failure)} ({self.last_error})"
        if self.failures:
            failure += f" [{self.failures} in a row]"
        lag = "-" if self.lag is None else f"{self.lag:.0f}s"
        return (
            f"{self.name}  {self.schedule}  last success: {_when(self.last_success)}  "
            f"last failure: {failure}  lag: {lag}  {self.state}"
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "name": self.name,
            "schedule": self.schedule,
            "last_success": _iso(self.last_success),
            "last_failure": _iso(self.last_failure),
            "last_error": self.last_error,
            "failures": self.failures,
            "lag_seconds": None if self.lag is None else round(self.lag, 1),
            "state": self.state,
        }


def _when(moment: datetime | None) -> str:
    return "never" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def moment(record: Record, field_name: str) -> datetime | None:
    """A stored timestamp as an aware datetime, None when absent."""
    seconds = _seconds(record, field_name)
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def task_statuses(app: Flask, now: float | None = None) -> list[TaskStatus]:
    """The status of every task of ``app``'s scheduler, in the order they were scheduled."""
    scheduler = app.extensions["conexoos"].scheduler
    return scheduler.statuses(time.time() if now is None else now)


def lagging_tasks(app: Flask) -> list[str]:
    """Names of ``app``'s tasks that lag."""
    return [status.name for status in task_statuses(app) if status.lagging]
