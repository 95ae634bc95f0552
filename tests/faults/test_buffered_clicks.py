"""Acknowledged clicks (a 302 from ``/go``) are never lost and never counted twice, whatever happens to the
process that acknowledged them, to Redis or to the database, with the real ``conexoos serve``.

While the clicks arrive the test holds ``LOCK TABLE analytics_event IN SHARE MODE`` on the product's
PostgreSQL: the link is still read, but no insert into the events table can pass, so every acknowledged
click is in the write buffer (not yet in the database) when the fault strikes. Then the lock goes, the
server comes back, and each acknowledged click must be in ``analytics_event`` exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import create_engine, func, select, table, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from tests.faults.conftest import DB_NAME, database_entry
from tests.faults.harness import ServedProduct, Visitor, new_port, product_config
from tests.framework.helpers import wait_until
from tests.support.postgres_cluster import PostgresCluster
from tests.support.redis_server import RedisServer

CLICKS = 25
ARRIVAL_TIMEOUT = 60.0
QUEUE = "analytics-events"


def serve(folder: Path, postgres: PostgresCluster, **sections: Any) -> ServedProduct:
    port = new_port()
    server = ServedProduct(product_config(folder, port, database_entry(postgres), **sections), port)
    server.wait_ready()
    return server


def events_table(postgres: PostgresCluster) -> Engine:
    return create_engine(postgres.url(database=DB_NAME), pool_pre_ping=True)


def stored_clicks(engine: Engine, link_id: int) -> tuple[int, int]:
    """(clicks on ``link_id`` stored, distinct event ids among them); the cluster's database is shared by
    the tests of a run, each with a link of its own."""
    events = table("analytics_event")
    query = select(func.count(), func.count(func.distinct(text("event_id")))).select_from(events)
    where = text("kind = 'click' AND link_id = :link_id").bindparams(link_id=link_id)
    with engine.connect() as connection:
        total, distinct = connection.execute(query.where(where)).one()
    return int(total), int(distinct)


@contextmanager
def inserts_held(engine: Engine) -> Iterator[None]:
    """No insert into analytics_event passes while this block runs (reads do)."""
    connection = engine.connect()
    transaction = connection.begin()
    connection.execute(text("LOCK TABLE analytics_event IN SHARE MODE"))
    try:
        yield
    finally:
        try:
            transaction.rollback()
            connection.close()
        except (OperationalError, InterfaceError):
            engine.dispose()  # the server was stopped under it: that ended the lock already


def click(server: ServedProduct, link_id: int, count: int) -> int:
    """Follow the link ``count`` times as anonymous visitors; how many were acknowledged (302)."""
    visitor = Visitor(server.url)
    answers = [visitor.get(f"/go/{link_id}").status_code for _ in range(count)]
    assert set(answers) == {302}, answers
    return len(answers)


def queue_files(folder: Path) -> dict[str, int]:
    """Each file of the local write buffer and its lines (refused ones included), for failure messages."""
    queue = folder / "instance" / "write-buffer" / QUEUE
    return {path.name: sum(1 for line in path.open() if line.strip()) for path in queue.glob("*")}


def queued_lines(folder: Path) -> int:
    """Events in the local write buffer's files."""
    queue = folder / "instance" / "write-buffer" / QUEUE
    files = [path for path in queue.glob("*.jsonl") if path.name != "refused.jsonl"]
    return sum(1 for path in files for line in path.open() if line.strip())


def end_abruptly(server: ServedProduct, how: signal.Signals) -> None:
    """Send ``how`` to every worker, then to the master (SIGKILL: nothing runs after it)."""
    master = server.process.pid
    workers = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True, check=False)
    for pid in [int(line) for line in workers.stdout.split()]:
        os.kill(pid, how)
    os.kill(master, how)
    server.process.wait(60)
    server.stop()  # closes its log


def all_arrived(engine: Engine, link_id: int, expected: int) -> bool:
    return stored_clicks(engine, link_id)[0] >= expected


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_clicks_acknowledged_before_the_worker_ends_arrive_once(
    tmp_path: Path, postgres: PostgresCluster, how: signal.Signals
) -> None:
    engine = events_table(postgres)
    server = serve(tmp_path, postgres)
    try:
        owner = Visitor(server.url)
        owner.sign_up(f"owner{server.port}")
        link_id = owner.add_link()
        with inserts_held(engine):
            acknowledged = click(server, link_id, CLICKS)
            assert queued_lines(tmp_path) == acknowledged  # all waiting in the buffer, none in the table
            end_abruptly(server, how)
        if how == signal.SIGKILL:  # a graceful stop may finish the flush already waiting on the lock
            assert stored_clicks(engine, link_id) == (0, 0)
        server = serve(tmp_path, postgres)
        assert wait_until(
            lambda: all_arrived(engine, link_id, acknowledged), timeout=ARRIVAL_TIMEOUT, interval=0.5
        )
        time.sleep(3)  # a few more flushes: none may insert anything again
        assert stored_clicks(engine, link_id) == (acknowledged, acknowledged)
        assert queued_lines(tmp_path) == 0
    finally:
        server.stop()
        engine.dispose()


def test_clicks_in_the_redis_stream_survive_a_redis_kill_9_and_restart(
    tmp_path: Path, postgres: PostgresCluster
) -> None:
    engine = events_table(postgres)
    redis_server = RedisServer(persistent=True)
    redis_server.start()
    server = serve(tmp_path, postgres, SERVICES={"redis": redis_server.service})
    try:
        owner = Visitor(server.url)
        owner.sign_up(f"owner{server.port}")
        link_id = owner.add_link()
        with inserts_held(engine):
            acknowledged = click(server, link_id, CLICKS)
            redis_server.kill()
            redis_server.start()
            stream = redis.Redis.from_url(redis_server.url)
            [key] = stream.keys(f"*buffer:{QUEUE}")
            assert stream.xlen(key) == acknowledged  # the AOF (appendfsync always) kept every one
            acknowledged += click(server, link_id, CLICKS)  # after the restart: the stream again
        assert wait_until(
            lambda: all_arrived(engine, link_id, acknowledged), timeout=ARRIVAL_TIMEOUT, interval=0.5
        )
        time.sleep(3)
        assert stored_clicks(engine, link_id) == (acknowledged, acknowledged)
        assert stream.xlen(key) == 0
    finally:
        server.stop()
        redis_server.close()
        engine.dispose()


def test_clicks_wait_in_the_buffer_through_a_database_outage(
    tmp_path: Path, postgres: PostgresCluster
) -> None:
    engine = events_table(postgres)
    server = serve(tmp_path, postgres)
    try:
        owner = Visitor(server.url)
        owner.sign_up(f"owner{server.port}")
        link_id = owner.add_link()
        with inserts_held(engine):
            acknowledged = click(server, link_id, CLICKS)
            # Every acknowledged click is queued, or (if one got past the lock: never seen here, once
            # in CI, 3 of 25 missing from the queue) already stored: counted before the outage.
            stored_before = stored_clicks(engine, link_id)[0]
            postgres.stop()  # closes the lock's connection too
        time.sleep(5)  # flushes fail meanwhile: nothing is acknowledged, nothing dropped
        queued = queued_lines(tmp_path)
        assert queued + stored_before == acknowledged, (
            queued,
            stored_before,
            queue_files(tmp_path),
            server.output()[-3000:],
        )
        postgres.start()
        assert wait_until(
            lambda: all_arrived(engine, link_id, acknowledged), timeout=ARRIVAL_TIMEOUT, interval=0.5
        )
        time.sleep(3)
        assert stored_clicks(engine, link_id) == (acknowledged, acknowledged)
        assert "Exception on /" not in server.output()
    finally:
        server.stop()
        engine.dispose()
