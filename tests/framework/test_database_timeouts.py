"""The waits of each database connection are bounded by its ``DATABASE.<name>.*_timeout`` keys: the pool
and connecting (engine options), a lock (the server session), and a statement, in a web request only."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from conexoos.framework import db
from tests.conftest import AppFactory

SLEEP = {"postgresql": "SELECT pg_sleep(2)", "mysql": "SELECT SLEEP(2)", "mariadb": "SELECT SLEEP(2)"}
LOCK_WAIT = {
    "postgresql": "SELECT current_setting('lock_timeout')",
    "mysql": "SELECT @@SESSION.innodb_lock_wait_timeout",
    "mariadb": "SELECT @@SESSION.innodb_lock_wait_timeout",
}


def timed_app(make_app: AppFactory, **timeouts: int) -> Flask:
    return make_app(overrides={"DATABASE": {"main": timeouts}})


def test_pool_and_connect_timeouts_reach_the_engine(make_app: AppFactory) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:9/nothing"
    app = make_app(
        overrides={"DATABASE": {"main": {"pool_timeout": 7, "connect_timeout": 3}}},
        database_url=url,
        schema=False,
    )
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_timeout"] == 7
    assert options["connect_args"]["connect_timeout"] == 3
    assert (
        options["connect_args"]["tcp_user_timeout"] == 30_000 and options["connect_args"]["keepalives"] == 1
    )
    with app.app_context():
        assert db.engine.pool.timeout() == 7
    in_url = make_app(database_url=url + "?connect_timeout=9", schema=False)
    assert "connect_timeout" not in in_url.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]


@pytest.mark.database_matrix
def test_every_server_session_bounds_its_lock_waits(make_app: AppFactory) -> None:
    app = timed_app(make_app, lock_timeout=7)
    with app.app_context():
        dialect = db.engine.dialect.name
        if dialect == "sqlite":
            pytest.skip("SQLite's lock wait is its busy timeout (30 s)")
        assert str(db.session.scalar(text(LOCK_WAIT[dialect]))) in {"7s", "7"}


@pytest.mark.database_matrix
def test_a_statement_is_bounded_in_a_web_request_and_not_elsewhere(make_app: AppFactory) -> None:
    app = timed_app(make_app, request_timeout=1)
    with app.app_context():
        dialect = db.engine.dialect.name
    if dialect == "sqlite":
        pytest.skip("SQLite has no server that could stop answering")
    with app.test_request_context("/"):
        started = time.monotonic()
        with pytest.raises(OperationalError, match="timed out|did not answer"):
            db.session.execute(text(SLEEP[dialect]))
        assert time.monotonic() - started < 1.9
        db.session.rollback()
        assert db.session.scalar(text("SELECT 1")) == 1  # the dropped connection was replaced
        db.session.remove()
    with app.app_context():  # a task, a command: long work is not cut short
        started = time.monotonic()
        db.session.execute(text(SLEEP[dialect]))
        assert time.monotonic() - started >= 2
