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
from sqlalchemy import event, select

from conexoos.app.models.persistent import AnalyticsEvent
from conexoos.framework import db

from .analytics_support import count_events
from .conftest import BROWSER_UA, Account

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


def test_a_signed_in_visitors_click_served_from_the_cache_is_counted_and_the_owners_is_not(
    app: Flask, signed_up: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """During an outage a link the cache has seen still redirects a signed-in visitor; the user cannot be
    loaded, so the session's user id tells the owner's own click (not counted) from another's (counted)."""
    alice: Account = signed_up("alice")
    bob: Account = signed_up("bob")
    link = alice.add_link("Blog", "https://blog.example/")["id"]
    anonymous = app.test_client()
    assert anonymous.get("/alice", headers={"User-Agent": BROWSER_UA}).status_code == 200  # links kept
    stored_before = count_events(app)
    with database_down(app), caplog.at_level(logging.WARNING):
        for visitor in (bob, alice):
            clicked = visitor.client.get(f"/go/{link}", headers={"User-Agent": BROWSER_UA})
            assert clicked.status_code == 302 and clicked.headers["Location"] == "https://blog.example/"
    assert not [record for record in caplog.records if "not recorded" in record.getMessage()]
    assert count_events(app) == stored_before + 1
    with app.app_context():
        kinds = db.session.scalars(select(AnalyticsEvent.kind).where(AnalyticsEvent.link_id == link)).all()
    assert kinds == ["click"]
