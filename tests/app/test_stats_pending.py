"""``/api/stats`` reads only the asking owner's events that are not rolled up yet, filtered in SQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from conexoos.framework import db
from tests.conftest import AppFactory

from .analytics_support import RECORDED_AT, analytics_app, day_stats, insert_event, roll_up
from .conftest import Account

pytestmark = pytest.mark.database_matrix


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """The product configured for the analytics tests."""
    return analytics_app(make_app)


def test_other_owners_pending_events_are_never_read(app: Flask, alice: Account, bob: Account) -> None:
    insert_event(app, alice.id, RECORDED_AT - timedelta(hours=2), visitor="a0")
    roll_up(app)
    for number in range(3):
        insert_event(app, alice.id, RECORDED_AT + timedelta(minutes=number), visitor=f"a{number}")
    for number in range(40):
        insert_event(app, bob.id, RECORDED_AT + timedelta(minutes=number), visitor=f"b{number}")

    reads: list[tuple[str, Any]] = []

    def watch(connection: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM analytics_event" in statement:
            reads.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "after_cursor_execute", watch)
    try:
        report = day_stats(alice)
    finally:
        with app.app_context():
            event.remove(db.engine, "after_cursor_execute", watch)

    assert report["totals"]["views"] == 4
    assert reads, "the pending events were not read at all"
    for statement, parameters in reads:
        where = statement.split("WHERE", 1)[1]
        assert "analytics_event.owner_id =" in where, statement
        assert "analytics_event.rolled_up =" in where, statement
        assert str(alice.id) in str(parameters), parameters
    assert day_stats(bob)["totals"]["views"] == 40
