"""A signed-in visitor while the database is down gets the same 503 page as an anonymous one (never a 500),
and the log holds one line for it, not a traceback per request."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from conexoos.framework import db

from .conftest import Account

DATABASE_DOWN = "The database is unavailable right now"


@contextmanager
def database_down(app: Flask) -> Iterator[None]:
    """Every new connection is refused, as a stopped server's would be; pooled ones are dropped."""

    def refuse(*_args: Any) -> None:
        raise sqlite3.OperationalError("connection refused (the test stopped the database)")

    with app.app_context():
        engine = db.engine
    event.listen(engine, "do_connect", refuse)
    engine.dispose()
    try:
        yield
    finally:
        event.remove(engine, "do_connect", refuse)


@pytest.mark.parametrize("path", ["/dashboard", "/api/links", "/login", "/readyz", "/settings"])
def test_a_signed_in_visitor_gets_the_503_not_a_500(
    app: Flask, signed_up: Any, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    owner: Account = signed_up("alice")
    with database_down(app), caplog.at_level(logging.WARNING):
        response = owner.client.get(path)
    assert response.status_code == 503, response.get_data(as_text=True)[:2000]
    if path != "/readyz":
        assert DATABASE_DOWN in response.get_data(as_text=True)
    assert not [record for record in caplog.records if record.exc_info], [
        r.getMessage() for r in caplog.records
    ]
