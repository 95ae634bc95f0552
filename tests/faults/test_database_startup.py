"""``conexoos serve`` with its PostgreSQL down, coming up late, or refusing the password: it waits with
back-off (one log line a retry) for SERVER_ENV.STARTUP_WAIT, then ends with one line and exit status 2;
what waiting cannot mend ends start-up at once."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from tests.faults.conftest import database_entry
from tests.faults.harness import ServedProduct, new_port, product_config
from tests.framework.helpers import wait_until
from tests.support.postgres_cluster import PostgresCluster

WAITING = "WARNING conexoos.startup: waiting for the database: connection 'main'"


def serve(folder: Path, database: dict[str, object], wait: int) -> ServedProduct:
    folder.mkdir(parents=True, exist_ok=True)
    port = new_port()
    return ServedProduct(product_config(folder, port, database, SERVER_ENV={"STARTUP_WAIT": wait}), port)


def ended(server: ServedProduct, within: float) -> tuple[int, list[str]]:
    """Wait for the server to end; its exit status and the lines it wrote."""
    try:
        code = server.process.wait(within)
    finally:
        server.stop()
    return code, server.output().splitlines()


def test_a_database_that_stays_down_is_waited_for_then_one_line(
    tmp_path: Path, postgres: PostgresCluster
) -> None:
    postgres.stop()
    started = time.monotonic()
    code, lines = ended(serve(tmp_path, database_entry(postgres), wait=4), within=60)
    assert code == 2, lines
    assert time.monotonic() - started >= 4
    retries = [line for line in lines if WAITING in line]
    assert len(retries) >= 3, lines  # 0.5 s, 1 s, 2 s...
    assert "connection refused: nothing listens there (is the server running?)" in retries[0]
    errors = [line for line in lines if WAITING not in line]
    assert errors == [
        f"database error: connection 'main' (postgresql at 127.0.0.1:{postgres.port}): connection refused: "
        "nothing listens there (is the server running?); gave up after waiting 4 s"
    ], lines


def test_a_database_that_comes_up_during_the_wait_is_served(
    tmp_path: Path, postgres: PostgresCluster
) -> None:
    postgres.stop()
    server = serve(tmp_path, database_entry(postgres), wait=90)
    try:
        assert wait_until(lambda: WAITING in server.output(), 30), server.output()
        postgres.start()
        server.wait_ready()
        assert requests.get(f"{server.url}/", timeout=10).status_code == 200
        assert "database 'main' answers after" in server.output()
    finally:
        server.stop()


def test_a_wrong_password_or_a_missing_database_ends_start_up_at_once(
    tmp_path: Path, postgres: PostgresCluster
) -> None:
    started = time.monotonic()
    # Both at once: each is a child process that mostly waits for its imports.
    wrong = serve(tmp_path / "wrong", database_entry(postgres, password="wrong-password"), wait=60)
    missing = serve(tmp_path / "missing", database_entry(postgres, name="no_such_db"), wait=60)
    wrong_code, wrong_lines = ended(wrong, within=40)
    missing_code, missing_lines = ended(missing, within=40)
    assert time.monotonic() - started < 40  # not the 60 s of STARTUP_WAIT: waiting cannot mend them
    where = f"database error: connection 'main' (postgresql at 127.0.0.1:{postgres.port})"
    assert (wrong_code, wrong_lines) == (
        2,
        [
            f"{where}: wrong password or unknown user "
            '(FATAL: password authentication failed for user "conexoos_app")'
        ],
    )
    assert (missing_code, missing_lines) == (
        2,
        [f'{where}: the database does not exist (FATAL: database "no_such_db" does not exist)'],
    )
