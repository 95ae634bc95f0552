"""The write buffer (framework/write_buffer.py) against real processes, files and a Redis of the test's own:
several processes append while a flush drains, an acknowledged append survives kill -9 of its process and
of Redis, a flush that crashes before acknowledging reads its batch again, a torn line is set aside."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
import redis

from conexoos.framework import write_buffer
from conexoos.framework.write_buffer import (
    Batch,
    FileQueue,
    RedisStreamQueue,
    SpillingQueue,
    WriteQueue,
    drain,
)
from tests.support.redis_server import RedisServer

APPENDERS = 4
APPENDS_EACH = 150
CONTEXT = multiprocessing.get_context("fork")


def _append_many(folder: str, worker: int, count: int) -> None:
    queue = FileQueue(Path(folder))
    for number in range(count):
        queue.append({"id": f"{worker}-{number}", "worker": worker})


def _append_and_report(folder: str, pipe: Connection, fsync: bool) -> None:
    """Append forever, sending each payload's id once its append returned (was acknowledged)."""
    queue = FileQueue(Path(folder), fsync=fsync)
    while True:
        event_id = uuid.uuid4().hex
        queue.append({"id": event_id})
        pipe.send(event_id)


def collected(queue: WriteQueue) -> list[str]:
    """Drain ``queue`` completely; every payload id read, in order."""
    seen: list[str] = []
    while drain(queue, lambda payloads: seen.extend(p["id"] for p in payloads), limit=100, batches=50):
        pass
    return seen


def test_several_processes_append_while_a_flush_drains_and_each_payload_arrives_once(tmp_path: Path) -> None:
    queue = FileQueue(tmp_path / "queue")
    seen: list[str] = []
    processes = [
        CONTEXT.Process(target=_append_many, args=(str(queue.folder), worker, APPENDS_EACH))
        for worker in range(APPENDERS)
    ]
    for process in processes:
        process.start()
    while any(process.is_alive() for process in processes):  # flushes (rename, then read) meanwhile
        drain(queue, lambda payloads: seen.extend(p["id"] for p in payloads), limit=100, batches=5)
    for process in processes:
        process.join(10)
        assert process.exitcode == 0
    seen.extend(collected(queue))

    expected = {f"{worker}-{number}" for worker in range(APPENDERS) for number in range(APPENDS_EACH)}
    assert Counter(seen) == Counter(expected)  # none lost, none twice
    assert queue.pending() == 0 and not queue.batch_files()


@pytest.mark.parametrize("fsync", [True, False], ids=["fsync", "no-fsync"])
def test_an_acknowledged_append_survives_kill_9_of_its_process(tmp_path: Path, fsync: bool) -> None:
    """With or without fsync (APP.ANALYTICS.BUFFER_FSYNC): a completed write outlives its process."""
    queue = FileQueue(tmp_path / "queue")
    receiver, sender = CONTEXT.Pipe(duplex=False)
    process = CONTEXT.Process(target=_append_and_report, args=(str(queue.folder), sender, fsync))
    process.start()
    acknowledged = [receiver.recv() for _ in range(300)]
    assert process.pid is not None
    os.kill(process.pid, signal.SIGKILL)
    process.join(10)
    while receiver.poll():  # appends acknowledged between the 300th and the kill
        acknowledged.append(receiver.recv())

    stored = collected(queue)
    assert set(acknowledged) <= set(stored)
    assert len(stored) == len(set(stored))


def test_a_flush_that_crashes_before_acknowledging_reads_its_batch_again(tmp_path: Path) -> None:
    queue = FileQueue(tmp_path / "queue")
    for number in range(5):
        queue.append({"id": str(number)})
    stored: list[str] = []

    def store_then_crash(payloads: list[dict[str, str]]) -> None:
        stored.extend(p["id"] for p in payloads)
        raise RuntimeError("the flush died between its insert and its acknowledgement")

    with pytest.raises(RuntimeError):
        drain(queue, store_then_crash, limit=100, batches=1)
    queue.append({"id": "5"})
    assert queue.pending() == 6
    assert collected(queue) == [str(number) for number in range(6)]  # the same batch first, then the rest
    assert stored == [str(number) for number in range(5)]


def test_a_torn_line_is_set_aside_and_the_others_arrive(tmp_path: Path) -> None:
    queue = FileQueue(tmp_path / "queue")
    queue.append({"id": "a"})
    with queue.live.open("ab") as live:
        live.write(b'{"id": "cut sho\n')
    queue.append({"id": "b"})
    assert collected(queue) == ["a", "b"]
    assert (queue.folder / "refused.jsonl").read_bytes() == b'{"id": "cut sho\n'


@pytest.fixture
def persistent_redis() -> Iterator[RedisServer]:
    """A Redis of the test's own with an AOF fsync'd at every write."""
    try:
        server = RedisServer(persistent=True)
    except RuntimeError as error:
        pytest.skip(str(error))
    server.start()
    yield server
    server.close()


def stream(server: RedisServer) -> RedisStreamQueue:
    client = redis.Redis.from_url(server.url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return RedisStreamQueue(client, "test:buffer:events")


def test_a_stream_append_survives_kill_9_of_redis_with_appendfsync_always(
    persistent_redis: RedisServer,
) -> None:
    queue = stream(persistent_redis)
    for number in range(200):
        queue.append({"id": str(number)})
    persistent_redis.kill()
    persistent_redis.start()
    assert collected(stream(persistent_redis)) == [str(number) for number in range(200)]
    assert queue.pending() == 0


def test_appends_go_to_the_files_while_redis_is_down_and_the_flush_drains_both(
    persistent_redis: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = SpillingQueue(stream(persistent_redis), FileQueue(tmp_path / "spill"))
    queue.append({"id": "before"})
    monkeypatch.setattr(write_buffer, "SPILL_SECONDS", 0.0)  # each append tries Redis first
    persistent_redis.stop()
    queue.append({"id": "during-1"})
    queue.append({"id": "during-2"})
    assert queue.spill.pending() == 2
    persistent_redis.start()
    queue.append({"id": "after"})
    first = queue.read(100)
    assert first.source == "file" and [p["id"] for p in first.payloads] == ["during-1", "during-2"]
    queue.ack(first)
    assert collected(queue) == ["before", "after"]
    assert queue.pending() == 0


def test_after_a_failed_append_the_next_ones_go_straight_to_the_files(
    persistent_redis: RedisServer, tmp_path: Path
) -> None:
    queue = SpillingQueue(stream(persistent_redis), FileQueue(tmp_path / "spill"))
    persistent_redis.freeze()  # a hung Redis: each append would wait REDIS_TIMEOUT for it
    try:
        queue.append({"id": "first"})  # waits, then spills
        persistent_redis.thaw()
        queue.append({"id": "second"})  # within SPILL_SECONDS: the files, though Redis answers again
    finally:
        persistent_redis.thaw()
    assert queue.spill.pending() == 2 and queue.stream.pending() == 0


def test_an_empty_queue_reads_an_empty_batch(tmp_path: Path) -> None:
    queue = FileQueue(tmp_path / "never-written")
    assert queue.read(10) == Batch([], "file")
    assert queue.pending() == 0


def test_threads_keeping_their_descriptors_append_while_a_flush_drains_and_each_payload_arrives_once(
    tmp_path: Path,
) -> None:
    """One queue shared by the threads of a process (as a gthread worker's): each keeps its descriptor of
    ``live.jsonl`` open across appends, and none writes into a file a flush has renamed and read."""
    queue = FileQueue(tmp_path / "queue", fsync=False)
    seen: list[str] = []
    threads = [
        threading.Thread(target=lambda worker=worker: _append_each(queue, worker)) for worker in range(4)
    ]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        drain(queue, lambda payloads: seen.extend(p["id"] for p in payloads), limit=100, batches=5)
    seen.extend(collected(queue))

    expected = {f"{worker}-{number}" for worker in range(4) for number in range(APPENDS_EACH * 4)}
    assert Counter(seen) == Counter(expected)


def _append_each(queue: FileQueue, worker: int) -> None:
    for number in range(APPENDS_EACH * 4):
        queue.append({"id": f"{worker}-{number}"})


def test_a_thread_opens_the_live_file_once_until_a_flush_renames_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = FileQueue(tmp_path / "queue", fsync=False)
    opened: list[str] = []
    real_open = os.open
    queue.append({"id": "0"})  # opens the file (and makes the folder)
    monkeypatch.setattr(
        write_buffer.os, "open", lambda path, *rest: opened.append(str(path)) or real_open(path, *rest)
    )
    queue.append({"id": "1"})
    queue.append({"id": "2"})
    assert opened == []
    assert collected(queue) == ["0", "1", "2"]  # the flush renamed the file the thread holds
    opened.clear()
    queue.append({"id": "3"})
    queue.append({"id": "4"})
    assert opened == [str(queue.live)] and collected(queue) == ["3", "4"]


def test_a_forked_process_appends_through_its_own_descriptor(tmp_path: Path) -> None:
    """A worker forked after the queue was used (gunicorn's preloaded app) never shares the master's
    descriptor, whose lock a flush would then wait on for the wrong process, and does not keep it open."""
    queue = FileQueue(tmp_path / "queue", fsync=False)
    queue.append({"id": "parent"})
    child = CONTEXT.Process(target=_append_inherited, args=(queue,))
    child.start()
    child.join(10)
    assert child.exitcode == 0
    assert sorted(collected(queue)) == ["child", "parent"]


def _append_inherited(queue: FileQueue) -> None:
    if _descriptors_in(queue.folder):  # the parent's descriptor, inherited: closed at the fork
        raise SystemExit(2)
    queue.append({"id": "child"})
    if _descriptors_in(queue.folder) != [str(queue.live)]:
        raise SystemExit(3)


def _descriptors_in(folder: Path) -> list[str]:
    """The files of ``folder`` this process has open (`` (deleted)`` after a deleted file's name)."""
    names = [os.readlink(f"/proc/self/fd/{number}") for number in _open_descriptors()]
    return sorted(name for name in names if name.startswith(str(folder)))


def _open_descriptors() -> list[str]:
    listed = os.listdir("/proc/self/fd")  # the listing's own descriptor is in it, closed by now
    return [number for number in listed if os.path.exists(f"/proc/self/fd/{number}")]


def _idle_appenders(queue: FileQueue, count: int) -> tuple[list[threading.Thread], threading.Event]:
    """``count`` threads that append once each and then wait (idle threads of a gthread worker)."""
    appended = threading.Barrier(count + 1)
    resume = threading.Event()

    def append_then_idle(worker: int) -> None:
        queue.append({"id": f"idle-{worker}"})
        appended.wait(5)
        resume.wait(5)
        queue.append({"id": f"again-{worker}"})

    threads = [threading.Thread(target=append_then_idle, args=(worker,)) for worker in range(count)]
    for thread in threads:
        thread.start()
    appended.wait(5)
    return threads, resume


def test_a_flush_closes_the_idle_threads_descriptors_of_the_file_it_deletes(tmp_path: Path) -> None:
    queue = FileQueue(tmp_path / "queue", fsync=False)
    threads, resume = _idle_appenders(queue, 3)
    assert sorted(collected(queue)) == ["idle-0", "idle-1", "idle-2"]
    assert _descriptors_in(queue.folder) == []  # none left open on the deleted batch file
    resume.set()
    for thread in threads:
        thread.join(5)
    assert sorted(collected(queue)) == ["again-0", "again-1", "again-2"]


def test_an_append_that_finds_the_file_renamed_by_another_process_closes_the_idle_threads_ones(
    tmp_path: Path,
) -> None:
    queue = FileQueue(tmp_path / "queue", fsync=False)
    queue.append({"id": "main"})
    threads, resume = _idle_appenders(queue, 2)
    flush = CONTEXT.Process(target=collected, args=(FileQueue(queue.folder),))
    flush.start()
    flush.join(10)
    assert flush.exitcode == 0 and queue.pending() == 0
    queue.append({"id": "after"})
    assert _descriptors_in(queue.folder) == [str(queue.live)]  # this thread's, on the new file
    resume.set()
    for thread in threads:
        thread.join(5)
    assert sorted(collected(queue)) == ["after", "again-0", "again-1"]
