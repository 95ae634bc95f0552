"""The scheduler under faults: a lock or a task that raises never ends it; it backs off and records why.

Statuses are read through the same API as /readyz, ``conexoos tasks status`` and the admin overview.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
import yaml
from flask import Flask

from conexoos.framework import tasks as tasks_module
from conexoos.framework.task_status import (
    STORE_TIMEOUT,
    FileStatusStore,
    RedisStatusStore,
    StatusBook,
    task_statuses,
)
from conexoos.framework.tasks import BACKOFF_MAX, Scheduler
from tests.conftest import AppFactory
from tests.framework.test_cli import conexoos
from tests.support.redis_server import RedisServer

from .helpers import free_port, wait_until, write_project
from .test_tasks import MemoryLock


class FaultyLock(MemoryLock):
    """A memory lock that raises ``fault`` (when set) instead of answering, counting every attempt."""

    def __init__(self) -> None:
        super().__init__()
        self.fault: BaseException | None = None
        self.attempts = 0

    def claim(self, task: str, slot: int, ttl: int) -> bool:
        self.attempts += 1
        if self.fault is not None:
            raise self.fault
        return super().claim(task, slot, ttl)


@pytest.fixture
def app(make_app: AppFactory, bare_project: Path) -> Flask:
    return make_app(bare_project)


def status_of(scheduler: Scheduler, name: str, now: float) -> dict[str, object]:
    [status] = [s for s in scheduler.statuses(now) if s.name == name]
    return status.as_dict() | {"lagging": status.lagging, "source": status.source}


@pytest.mark.parametrize(
    "fault",
    [
        redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6399. Connection refused."),
        OSError(28, "No space left on device"),
    ],
    ids=["redis-connection-error", "oserror"],
)
def test_a_lock_that_raises_is_claimed_again_after_a_back_off(app: Flask, fault: Exception) -> None:
    lock, runs = FaultyLock(), []
    scheduler = Scheduler(app, lock)
    scheduler.every(10, lambda: runs.append(1), name="job")
    scheduler.run_pending(now=0.0)
    lock.fault = fault

    assert scheduler.run_pending(now=10.0) == []  # no exception out of the scheduler
    assert lock.attempts == 1
    recorded = status_of(scheduler, "job", time.time())
    assert recorded["failures"] == 1
    assert recorded["last_error"] == f"lock: {type(fault).__name__}: {fault}"
    assert scheduler.run_pending(now=10.9) == []  # backing off: 1 s, no claim
    assert lock.attempts == 1
    assert scheduler.run_pending(now=11.0) == []  # claimed again (same slot), fails again: 2 s now
    assert lock.attempts == 2
    assert scheduler.run_pending(now=12.9) == [] and lock.attempts == 2

    lock.fault = None
    assert scheduler.run_pending(now=13.0) == ["job"]  # the same slot, once the fault has cleared
    assert runs == [1] and lock.claimed == {("job", 1)}
    recorded = status_of(scheduler, "job", time.time())
    assert recorded["failures"] == 0 and recorded["last_success"] is not None
    assert recorded["last_failure"] is not None  # the last failure stays visible after a success
    assert scheduler.run_pending(now=14.0) == []  # and the slot is not run twice
    assert scheduler.run_pending(now=20.0) == ["job"]


def test_a_task_with_its_own_back_off_bound_is_retried_at_least_that_often(app: Flask) -> None:
    calls: list[float] = []

    def failing() -> None:
        calls.append(now)
        raise ConnectionError("the database is down")

    scheduler = Scheduler(app, MemoryLock())
    scheduler.every(1, failing, name="flush", backoff_max=4)
    scheduler.run_pending(now=0.0)
    for now in [n * 1.0 for n in range(1, 20)]:
        scheduler.run_pending(now=now)
    assert calls == [1.0, 2.0, 4.0, 8.0, 12.0, 16.0]  # 1, 2, 4, then every 4 s: never the default minute


def test_a_task_that_raises_backs_off_exponentially_within_a_bound(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[float] = []
    broken = [True]

    def flaky() -> None:
        calls.append(now)
        if broken[0]:
            raise RuntimeError("database is locked") from ConnectionResetError("peer reset")

    scheduler = Scheduler(app, MemoryLock())
    scheduler.every(1, flaky, name="flaky")
    scheduler.run_pending(now=0.0)
    with caplog.at_level("ERROR", logger="conexoos.tasks"):
        for now in [n * 1.0 for n in range(1, 40)]:
            scheduler.run_pending(now=now)
    assert calls == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]  # retried after 1, 2, 4, 8, 16 s
    task = scheduler.tasks["flaky"]
    assert task.retry_at == 32.0 + 32.0
    task.failures = 50
    assert task.backoff() == BACKOFF_MAX
    messages = [record.getMessage() for record in caplog.records]
    assert messages[0] == (
        "scheduled task flaky failed (task: RuntimeError: database is locked <- caused by "
        "ConnectionResetError: peer reset); failure 1 in a row, retrying in 1 s"
    )
    tracebacks = [record for record in caplog.records if record.exc_info]
    assert len(tracebacks) == 1, "one traceback per run of failures, then one line per retry"

    broken[0] = False
    task.failures, task.retry_at = 1, 0.0
    now = 100.0
    assert scheduler.run_pending(now=now) == ["flaky"]
    assert task.failures == 0
    assert status_of(scheduler, "flaky", time.time())["failures"] == 0


def test_an_hourly_task_that_fails_is_run_again_within_its_hour_by_the_process_that_ran_it(
    app: Flask,
) -> None:
    lock, calls, broken = MemoryLock(), [], [True]

    def billing() -> None:
        calls.append(now)
        if broken[0]:
            raise ConnectionError("Stripe unreachable")

    scheduler, other = Scheduler(app, lock), Scheduler(app, lock)
    for each in (scheduler, other):
        each.every(3600, billing, name="billing")
        each.run_pending(now=0.0)
    for now in (3600.0, 3600.5, 3601.0, 3602.0, 3603.0, 3604.0, 3605.0):
        scheduler.run_pending(now=now)
        assert other.run_pending(now=now) == []  # the other process never runs the failed slot
    assert calls == [3600.0, 3601.0, 3603.0]  # retried after 1 s, then 2 s, in the same hour
    broken[0] = False
    now = 3607.0
    assert scheduler.run_pending(now=now) == ["billing"]
    assert scheduler.run_pending(now=3700.0) == []  # done for this hour
    assert lock.claimed == {("billing", 1)}  # one claim for the hour, retries included
    assert status_of(scheduler, "billing", time.time())["failures"] == 0


def test_the_scheduler_thread_outlives_every_fault_and_runs_again(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks_module, "BACKOFF_FIRST", 0.02)
    monkeypatch.setattr(tasks_module, "BACKOFF_MAX", 0.1)
    lock, runs = FaultyLock(), []
    scheduler = Scheduler(app, lock, tick=0.01)
    scheduler.every(0.05, lambda: runs.append(1), name="fast")
    faults = [
        redis.exceptions.ConnectionError("refused"),
        redis.exceptions.TimeoutError("Timeout reading from socket"),
        redis.exceptions.AuthenticationError("invalid username-password pair"),  # Redis refusing the host
        OSError(5, "Input/output error"),
        KeyError("anything at all"),
    ]
    scheduler.start()
    try:
        for fault in faults:
            lock.fault = fault
            attempts = lock.attempts
            assert wait_until(lambda a=attempts: lock.attempts >= a + 3, timeout=5)
            assert scheduler._thread is not None and scheduler._thread.is_alive()
        ran_before = len(runs)
        lock.fault = None
        assert wait_until(lambda: len(runs) >= ran_before + 2, timeout=5), "no run after the fault cleared"
    finally:
        assert scheduler.stop()


def test_a_status_store_that_fails_keeps_the_records_in_memory_and_says_so(
    app: Flask, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the status folder should be")
    scheduler = Scheduler(app, MemoryLock(), status=StatusBook(FileStatusStore(blocked)))
    scheduler.every(1, lambda: None, name="job")
    scheduler.run_pending(now=0.0)
    assert scheduler.run_pending(now=1.0) == ["job"]
    status = status_of(scheduler, "job", time.time())
    assert status["last_success"] is not None
    assert str(status["source"]).startswith("this process's memory (the instance folder")
    assert "FileExistsError" in str(status["source"]) or "NotADirectoryError" in str(status["source"])

    blocked.unlink()  # the store is back: the next record writes what was kept in memory
    assert scheduler.run_pending(now=2.0) == ["job"]
    other = StatusBook(FileStatusStore(blocked))
    assert set(other.read(["job"])["job"]) >= {"last_success", "failures"}
    assert status_of(scheduler, "job", time.time())["source"] == f"the instance folder ({blocked})"


def test_workers_share_task_status_through_redis_and_survive_its_outage(app: Flask) -> None:
    server = RedisServer()
    server.start()
    try:
        prefix = f"test-{uuid.uuid4().hex}:"
        client = redis.Redis.from_url(server.url, socket_timeout=1, socket_connect_timeout=1)
        first = Scheduler(app, MemoryLock(), status=StatusBook(RedisStatusStore(client, prefix)))
        second = Scheduler(app, MemoryLock(), status=StatusBook(RedisStatusStore(client, prefix)))
        for scheduler in (first, second):
            scheduler.every(1, lambda: None, name="job")
            scheduler.run_pending(now=0.0)
        assert first.run_pending(now=1.0) == ["job"]
        seen = status_of(second, "job", time.time())
        assert seen["last_success"] is not None and seen["source"] == "Redis"
        assert client.hgetall(f"{prefix}task-status:job")  # under the app's key prefix

        server.stop()
        assert first.run_pending(now=2.0) == ["job"]  # recording fails: kept in memory, no exception
        during = status_of(first, "job", time.time())
        assert str(during["source"]).startswith("this process's memory (Redis unavailable: ConnectionError")
        assert during["last_success"] > seen["last_success"]  # type: ignore[operator]

        server.start()  # empty: nothing was persisted
        assert first.run_pending(now=3.0) == ["job"]
        assert status_of(second, "job", time.time())["last_success"] is not None
        assert status_of(first, "job", time.time())["source"] == "Redis"

        server.freeze()  # hung: each status write gives up after its 1 s timeout
        started = time.monotonic()
        assert first.run_pending(now=4.0) == ["job"]
        assert time.monotonic() - started < 4
        assert "Redis unavailable: TimeoutError" in str(status_of(first, "job", time.time())["source"])
        server.thaw()
        assert first.run_pending(now=5.0) == ["job"]
        assert status_of(first, "job", time.time())["source"] == "Redis"
        client.close()
    finally:
        server.close()


def test_readyz_is_degraded_not_down_when_a_task_lags(app: Flask) -> None:
    scheduler = app.extensions["conexoos"].scheduler
    scheduler.every(1, lambda: None, name="job")
    scheduler.lag_margin = 0.0
    client = app.test_client()

    scheduler.status.record("job", started=repr(time.time()))
    assert client.get("/readyz").get_json() == {"status": "ok", "checks": {"database": "ok", "tasks": "ok"}}

    scheduler.status.record("job", started=repr(time.time() - 10))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "degraded",
        "checks": {"database": "ok", "tasks": "lagging"},
        "lagging": ["job"],
    }
    [status] = task_statuses(app)
    assert status.lagging and status.state == "LAGGING" and status.lag is not None and status.lag > 2

    scheduler.status.record("job", last_success=repr(time.time()))
    assert client.get("/readyz").get_json()["status"] == "ok"


def test_a_task_no_scheduler_ever_started_is_reported_as_never_run(app: Flask) -> None:
    scheduler = app.extensions["conexoos"].scheduler
    scheduler.every(1, lambda: None, name="job")
    [status] = task_statuses(app)
    assert (status.state, status.lag, status.lagging) == ("NEVER RUN", None, False)
    assert app.test_client().get("/readyz").get_json()["status"] == "ok"


STATUS_TASKS = """
    class Schedule:
        def __init__(self, scheduler):
            scheduler.every(60, print, name="fresh")
            scheduler.every(60, print, name="stuck")
            scheduler.cron("0 3 * * *", print, name="nightly")
"""


def test_tasks_status_prints_one_line_per_task_and_fails_when_one_lags(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", {"server/tasks.py": STATUS_TASKS})
    instance = tmp_path / "instance"
    config = tmp_path / "config.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "SERVER_ENV": {"INSTANCE_PATH": str(instance), "APP_KEY": "k" * 40},
                "DATABASE": {"default": "main", "main": {"url": f"sqlite:///{tmp_path / 'db.sqlite'}"}},
            }
        )
    )
    now = time.time()
    folder = instance / "task-status"
    folder.mkdir(parents=True)
    (folder / "fresh.json").write_text(json.dumps({"last_success": repr(now - 5), "failures": "0"}))
    stuck = {
        "last_success": repr(1_767_225_600.0),  # 2026-01-01 00:00:00 UTC
        "last_failure": repr(1_767_229_200.0),
        "error": "task: OperationalError: could not connect to server",
        "failures": "7",
    }
    (folder / "stuck.json").write_text(json.dumps(stuck))

    result = conexoos("tasks", "status", "--project", str(project), "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    header = re.fullmatch(
        rf"task status from the instance folder \({re.escape(str(folder))}\), read at (.+) UTC", lines[0]
    )
    assert header, lines[0]
    read_at = datetime.strptime(header.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()
    assert now - 1 <= read_at <= time.time() + 1  # after the records were written, in the same clock
    fresh, stuck_line, nightly = lines[1:]
    assert re.fullmatch(
        r"fresh  every 60s  last success: \S+ \S+ UTC  last failure: never  lag: \d+s  OK", fresh
    )
    assert stuck_line.startswith(
        "stuck  every 60s  last success: 2026-01-01 00:00:00 UTC  last failure: 2026-01-01 01:00:00 UTC "
        "(task: OperationalError: could not connect to server) [7 in a row]  lag: "
    )
    assert stuck_line.endswith("  LAGGING")
    assert nightly == "nightly  cron 0 3 * * *  last success: never  last failure: never  lag: -  NEVER RUN"

    (folder / "stuck.json").write_text(json.dumps(stuck | {"last_success": repr(time.time())}))
    result = conexoos("tasks", "status", "--project", str(project), "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "LAGGING" not in result.stdout

    settings = yaml.safe_load(config.read_text())
    port = free_port()
    settings["SERVICES"] = {"redis": {"HOST": "127.0.0.1", "PORT": port}}
    config.write_text(yaml.safe_dump(settings))
    result = conexoos("tasks", "status", "--project", str(project), "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    [line] = result.stdout.splitlines()  # once, and no task claimed NEVER RUN: their state is unknown
    assert line.startswith(
        f"task records in Redis at 127.0.0.1:{port} cannot be read: ConnectionError: Error 111 connecting"
    )
    assert line.endswith("; the state of the tasks is unknown")


def test_tasks_status_fails_when_a_task_failed_three_runs_in_a_row(tmp_path: Path) -> None:
    """It said OK and exited 0 while a task failed run after run, until the failures made it lag."""
    project = write_project(tmp_path / "project", {"server/tasks.py": STATUS_TASKS})
    config = tmp_path / "config.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "SERVER_ENV": {"INSTANCE_PATH": str(tmp_path / "instance"), "APP_KEY": "k" * 40},
                "DATABASE": {"default": "main", "main": {"url": f"sqlite:///{tmp_path / 'db.sqlite'}"}},
            }
        )
    )
    folder = tmp_path / "instance" / "task-status"
    folder.mkdir(parents=True)
    now = time.time()
    for name in ("fresh", "nightly"):
        (folder / f"{name}.json").write_text(json.dumps({"last_success": repr(now - 5), "failures": "0"}))
    failed = {"last_success": repr(now - 50), "last_failure": repr(now - 2), "error": "task: ValueError: no"}
    for failures, code, state in (("2", 0, "OK"), ("3", 1, "FAILING"), ("4", 1, "FAILING")):
        (folder / "stuck.json").write_text(json.dumps(failed | {"failures": failures}))
        result = conexoos("tasks", "status", "--project", str(project), "--config", str(config), cwd=tmp_path)
        assert result.returncode == code, result.stdout + result.stderr
        [stuck_line] = [line for line in result.stdout.splitlines() if line.startswith("stuck ")]
        assert f"(task: ValueError: no) [{failures} in a row]  lag: " in stuck_line
        assert stuck_line.endswith(f"  {state}")


def test_once_the_lock_failed_the_other_claims_of_the_pass_wait_for_the_next_pass(app: Flask) -> None:
    """A frozen Redis costs one lock timeout a pass, not one per task: "retrying in 1 s" stays true."""
    lock = FaultyLock()
    scheduler = Scheduler(app, lock)
    for name in ("first", "second", "third"):
        scheduler.every(10, lambda: None, name=name)
    scheduler.run_pending(now=0.0)
    lock.fault = redis.exceptions.TimeoutError("Timeout reading from socket")

    assert scheduler.run_pending(now=10.0) == [] and lock.attempts == 1
    assert [scheduler.tasks[name].failures for name in ("first", "second", "third")] == [1, 0, 0]
    lock.fault = None
    assert scheduler.run_pending(now=10.5) == ["second", "third"]  # the next pass claims them
    assert scheduler.run_pending(now=11.0) == ["first"]  # after its own 1 s back-off


def test_the_scheduler_reaches_redis_with_short_timeouts_and_no_retry(
    make_app: AppFactory, bare_project: Path
) -> None:
    app = make_app(bare_project, {"SERVICES": {"redis": {"HOST": "127.0.0.1", "PORT": free_port()}}})
    scheduler = app.extensions["conexoos"].scheduler
    for client in (scheduler._lock._client, scheduler.status.store._client):
        options = client.connection_pool.connection_kwargs
        assert (options["socket_timeout"], options["socket_connect_timeout"]) == (
            STORE_TIMEOUT,
            STORE_TIMEOUT,
        )


def test_a_stored_error_of_several_lines_is_reported_on_one(app: Flask) -> None:
    scheduler = app.extensions["conexoos"].scheduler
    scheduler.every(60, lambda: None, name="job")
    scheduler.status.record(
        "job",
        last_failure=repr(time.time()),
        error="task: OperationalError: Connection refused\n\tIs the server running on that host?",
        failures="1",
    )
    [status] = task_statuses(app)
    one_line = "task: OperationalError: Connection refused Is the server running on that host?"
    assert status.last_error == one_line
    assert "\n" not in status.line()


def test_quiet_repeats_log_a_run_of_failures_in_few_lines_and_every_failure_in_the_status(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    """A task calling a service that may stay down for hours (Stripe for billing-plan-ends): its own
    back-off bound, the first failure at ERROR, then the 2nd, 4th, 8th ... at WARNING saying since when,
    the end of the run at INFO; each failure still counts in the task's status."""
    calls: list[float] = []
    broken = [True]

    def remote() -> None:
        calls.append(now)
        if broken[0]:
            raise tasks_module.ServiceFault("Stripe could not be asked") from ConnectionError("refused")

    scheduler = Scheduler(app, MemoryLock())
    scheduler.every(600, remote, name="remote", backoff_max=900, quiet_repeats=True)
    scheduler.run_pending(now=0.0)
    with caplog.at_level("DEBUG", logger="conexoos.tasks"):
        for now in [600.0 + n for n in range(0, 4 * 3600, 1)]:
            scheduler.run_pending(now=now)
            if len(calls) == 20:
                break
        broken[0] = False
        now = scheduler.tasks["remote"].retry_at
        scheduler.run_pending(now=now)
    gaps = [round(b - a) for a, b in zip(calls, calls[1:], strict=False)]
    assert gaps[:10] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] and set(gaps[10:]) == {900}, gaps
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "conexoos.tasks"]
    failures = [(level, message) for level, message in lines if "failed (" in message]
    assert len(failures) == 20
    assert [level for level, _ in failures if level != "DEBUG"] == ["ERROR"] + [
        "WARNING"
    ] * 4  # 1, 2, 4, 8, 16
    assert failures[0][1] == (
        "scheduled task remote failed (task: ServiceFault: Stripe could not be asked <- caused by "
        "ConnectionError: refused); failure 1 in a row, retrying in 1 s"
    )
    assert failures[15][1].endswith(
        "failure 16 in a row since 1970-01-01 00:10:00 UTC (the ones between are in the task's status "
        "alone), retrying in 900 s"
    )
    assert lines[-1] == (
        "INFO",
        "scheduled task remote succeeded again, after 20 failures in a row since 1970-01-01 00:10:00 UTC",
    )
    assert scheduler.tasks["remote"].failures == 0
