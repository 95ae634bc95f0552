"""Scheduled tasks: slots computed from a fixed ``now``, and one run per slot across several processes."""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
import yaml
from flask import Flask, current_app

from conexoos.framework.errors import ProjectError
from conexoos.framework.tasks import FileSlotLock, Scheduler
from tests.conftest import AppFactory
from tests.support.services import require_redis

from .helpers import python_process, wait_until, write_files, write_project


class MemoryLock:
    """A slot lock shared by schedulers in one process, remembering every claim."""

    def __init__(self) -> None:
        self.claimed: set[tuple[str, int]] = set()
        self.refuse = False

    def claim(self, task: str, slot: int, ttl: int) -> bool:
        if self.refuse or (task, slot) in self.claimed:
            return False
        self.claimed.add((task, slot))
        return True


@pytest.fixture
def app(make_app: AppFactory, bare_project: Path) -> Flask:
    return make_app(bare_project)


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_interval_task_runs_once_per_slot_after_a_baseline(app: Flask) -> None:
    calls: list[str] = []
    scheduler = Scheduler(app, MemoryLock())
    scheduler.every(10, lambda: calls.append(current_app.name), name="job")

    assert scheduler.run_pending(now=100.0) == []  # the first look only sets the baseline
    assert scheduler.run_pending(now=109.9) == []
    assert scheduler.run_pending(now=110.0) == ["job"]
    assert scheduler.run_pending(now=115.0) == []
    assert scheduler.run_pending(now=145.0) == ["job"]  # missed slots are not replayed in a burst
    assert scheduler.run_pending(now=149.0) == []
    assert calls == [app.name, app.name]  # inside the app context


def test_cron_task_follows_its_expression(app: Flask) -> None:
    calls: list[float] = []
    scheduler = Scheduler(app, MemoryLock())
    scheduler.cron("*/5 * * * *", lambda: calls.append(1.0), name="report")

    assert scheduler.run_pending(now=at("2026-03-01T10:01:00")) == []
    assert scheduler.run_pending(now=at("2026-03-01T10:04:59")) == []
    assert scheduler.run_pending(now=at("2026-03-01T10:05:00")) == ["report"]
    assert scheduler.run_pending(now=at("2026-03-01T10:09:59")) == []
    assert scheduler.run_pending(now=at("2026-03-01T10:10:01")) == ["report"]
    assert len(calls) == 2


def test_two_schedulers_sharing_a_lock_run_each_slot_once(app: Flask) -> None:
    lock = MemoryLock()
    runs: list[str] = []
    first, second = Scheduler(app, lock), Scheduler(app, lock)
    first.every(60, lambda: runs.append("first"), name="sync")
    second.every(60, lambda: runs.append("second"), name="sync")

    for scheduler in (first, second):
        scheduler.run_pending(now=0.0)
    for now in (60.0, 61.0, 120.0, 180.0):
        second.run_pending(now=now)
        first.run_pending(now=now)
    assert runs == ["second", "second", "second"]
    assert lock.claimed == {("sync", 1), ("sync", 2), ("sync", 3)}


def test_a_refused_claim_skips_the_run(app: Flask) -> None:
    lock = MemoryLock()
    lock.refuse = True
    calls: list[int] = []
    scheduler = Scheduler(app, lock)
    scheduler.every(5, lambda: calls.append(1), name="job")
    scheduler.run_pending(now=0.0)
    assert scheduler.run_pending(now=5.0) == []
    assert calls == []


def test_a_failing_task_is_logged_and_others_still_run(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []

    def broken() -> None:
        raise RuntimeError("task failed on purpose")

    scheduler = Scheduler(app, MemoryLock())
    scheduler.every(5, broken)
    scheduler.every(5, lambda: calls.append("ok"), name="healthy")
    scheduler.run_pending(now=0.0)
    with caplog.at_level(logging.ERROR, logger="conexoos.tasks"):
        scheduler.run_pending(now=5.0)
    assert calls == ["ok"]
    [record] = [r for r in caplog.records if r.name == "conexoos.tasks"]
    assert record.getMessage() == (
        "scheduled task broken failed (task: RuntimeError: task failed on purpose); "
        "failure 1 in a row, retrying in 1 s"
    )
    assert record.exc_info is not None and "task failed on purpose" in str(record.exc_info[1])


def test_invalid_schedules_are_refused(app: Flask) -> None:
    scheduler = Scheduler(app, MemoryLock())
    with pytest.raises(ValueError, match="task interval must be a positive number of seconds, got 0"):
        scheduler.every(0, print)
    with pytest.raises(ValueError, match="invalid cron expression 'every day'"):
        scheduler.cron("every day", print)
    scheduler.every(1, print, name="twice")
    with pytest.raises(ValueError, match="a task named 'twice' is already scheduled"):
        scheduler.every(2, print, name="twice")
    # A project's Schedule met these as AttributeError and croniter's own error (outside tester); each is now
    # a ProjectError, which the command line shows as one line.
    with pytest.raises(ProjectError, match="must be callable, got 'heartbeat': pass the function itself"):
        scheduler.every(10, "heartbeat")  # type: ignore[arg-type]
    with pytest.raises(ProjectError, match="never fires"):
        scheduler.cron("0 0 31 2 *", print)
    with pytest.raises(ProjectError, match="positive number of seconds, got 'ten'"):
        scheduler.every("ten", print)  # type: ignore[arg-type]


def test_file_slot_lock_grants_each_slot_once_and_prunes(tmp_path: Path) -> None:
    first, second = FileSlotLock(tmp_path / "slots"), FileSlotLock(tmp_path / "slots")
    assert first.claim("job", 7, ttl=3) is True
    assert second.claim("job", 7, ttl=3) is False
    assert second.claim("other", 7, ttl=3) is True
    assert second.claim("job", 8, ttl=3) is True
    assert sorted(path.name for path in (tmp_path / "slots").iterdir()) == ["job.8", "other.7"]


def test_start_and_stop_run_the_background_thread(app: Flask) -> None:
    calls: list[float] = []
    scheduler = Scheduler(app, MemoryLock(), tick=0.02)
    scheduler.every(0.1, lambda: calls.append(time.time()), name="fast")
    scheduler.start()
    try:
        assert wait_until(lambda: len(calls) >= 2, timeout=5)
    finally:
        scheduler.stop()
    stopped_at = len(calls)
    time.sleep(0.25)
    assert len(calls) == stopped_at
    # A stopped scheduler can be started again (e.g. a worker reusing its app).
    scheduler.start()
    try:
        assert wait_until(lambda: len(calls) >= stopped_at + 2, timeout=5)
    finally:
        scheduler.stop()


TASKS_MODULE = """
    import os

    from conexoos.framework import runtime


    def record():
        current = runtime()
        slot = current.scheduler.tasks["tick"].last_slot
        if current.services.has("redis"):
            current.services.redis.hincrby(current.settings.get("APP.COUNTER_KEY"), str(slot), 1)
        else:
            with open(current.settings.get("APP.COUNTER_FILE"), "a", encoding="utf-8") as counter:
                counter.write(f"{slot} {os.getpid()}\\n")


    class Schedule:
        def __init__(self, scheduler):
            scheduler.every(1, record, name="tick")
"""
WORKER = """
    import sys
    import time
    from pathlib import Path

    from conexoos.framework import create_app

    project, config, folder = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    app = create_app(project, config)
    scheduler = app.extensions["conexoos"].scheduler
    scheduler.start()
    (folder / f"ready.{sys.argv[4]}").touch()
    deadline = time.monotonic() + 120  # never outlive a test that forgot to stop it
    while not (folder / "stop").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    scheduler.stop()
"""
WINDOW_SECONDS = 2.6


def run_two_workers(tmp_path: Path, config: dict[str, object]) -> None:
    """Run two processes with the same project and configuration for a few slots once both are up."""
    project = write_project(tmp_path / "tasks_project", {"server/tasks.py": TASKS_MODULE})
    config_path = tmp_path / "config.yml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    script = write_files(tmp_path, {"worker.py": WORKER}) / "worker.py"
    arguments = (str(project), str(config_path), str(tmp_path))
    with (
        python_process(script, *arguments, "1", log=tmp_path / "worker1.log") as first,
        python_process(script, *arguments, "2", log=tmp_path / "worker2.log") as second,
    ):
        both_ready = wait_until(
            lambda: (
                all((tmp_path / f"ready.{n}").exists() for n in "12")
                or first.poll() is not None
                or second.poll() is not None
            ),
            timeout=60,
        )
        assert both_ready and first.poll() is None and second.poll() is None, (
            tmp_path / "worker1.log"
        ).read_text() + (tmp_path / "worker2.log").read_text()
        time.sleep(WINDOW_SECONDS)
        (tmp_path / "stop").touch()
        for process in (first, second):
            process.wait(timeout=20)
    for name, process in (("worker1", first), ("worker2", second)):
        assert process.returncode == 0, (tmp_path / f"{name}.log").read_text()


def assert_each_slot_once(counts: Counter[int]) -> None:
    assert counts, "no slot ran at all"
    assert set(counts.values()) == {1}, counts
    slots = sorted(counts)
    assert len(slots) >= 2, slots
    assert slots == list(range(slots[0], slots[-1] + 1)), f"a slot was skipped: {slots}"


def base_config(tmp_path: Path, name: str) -> dict[str, object]:
    return {
        "SERVER_ENV": {
            "APP_NAME": name,
            "APP_KEY": "worker-key-" + "w" * 40,
            "INSTANCE_PATH": str(tmp_path / "shared_instance"),
        },
        "DATABASE": {"default": "main", "main": {"url": f"sqlite:///{tmp_path / 'tasks.db'}"}},
    }


@pytest.mark.services
def test_two_worker_processes_run_each_slot_once_with_redis(tmp_path: Path) -> None:
    redis_entry = require_redis()
    name = f"fwtasks{uuid.uuid4().hex[:10]}"
    counter_key = f"{name}:counts"
    config = {
        **base_config(tmp_path, name),
        "SERVICES": {"redis": redis_entry},
        "APP": {"COUNTER_KEY": counter_key},
    }
    client = redis.Redis(host=str(redis_entry["HOST"]), port=int(str(redis_entry["PORT"])))
    try:
        run_two_workers(tmp_path, config)
        raw = client.hgetall(counter_key)
        assert_each_slot_once(Counter({int(slot): int(count) for slot, count in raw.items()}))
        assert not (tmp_path / "shared_instance" / "task-slots").exists()  # Redis held the lock, not files
    finally:
        client.delete(counter_key)
        client.close()


def test_two_worker_processes_run_each_slot_once_with_file_locks(tmp_path: Path) -> None:
    counter_file = tmp_path / "counts.txt"
    run_two_workers(
        tmp_path, {**base_config(tmp_path, "fwtasksfiles"), "APP": {"COUNTER_FILE": str(counter_file)}}
    )
    lines = counter_file.read_text(encoding="utf-8").split()
    assert_each_slot_once(Counter(int(slot) for slot in lines[::2]))
    assert (tmp_path / "shared_instance" / "task-slots").is_dir()
