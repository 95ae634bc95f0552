"""Revision 0019: ``analytics_event.event_id`` comes (a distinct UUID for every existing event, no row lost)
and goes, events kept. Marked ``database_matrix`` (SQLite, PostgreSQL, MariaDB)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import column, select, table
from sqlalchemy.exc import IntegrityError

from conexoos.framework import db
from tests.fixtures.empty_database import migrate

pytestmark = [pytest.mark.database_matrix, pytest.mark.empty_database]

NOW = datetime(2026, 12, 2, 6, 0)
USER_ROW = {
    **{"password_hash": "x", "display_name": "", "bio": "", "subscription_plan": "gratis"},
    **{"subscription_status": "", "billing_event_at": 0, "created_at": NOW, "role": "user"},
    **{"suspension_reason": "", "email": "ana@example.com", "username": "ana"},
}
EVENT_ROW = {
    **{"owner_id": 1, "kind": "click", "occurred_at": NOW, "referrer_host": "", "utm_source": ""},
    **{"utm_medium": "", "utm_campaign": "", "device": "mobile", "os": "", "browser": "", "country": ""},
    **{"visitor_hash": "v", "rolled_up": False},
}
EVENTS = 50
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
"""Any UUID's text: MariaDB's UUID() gives version 1, PostgreSQL and the SQLite expression version 4."""


def events(app: Flask, *columns: str) -> list[tuple[object, ...]]:
    with app.app_context():
        found = db.session.execute(
            select(*(column(name) for name in ("id", *columns)))
            .select_from(table("analytics_event"))
            .order_by(column("id"))
        ).all()
        db.session.rollback()
    return [tuple(row) for row in found]


def event_columns(app: Flask) -> set[str]:
    with app.app_context():
        return {c["name"] for c in db.inspect(db.engine).get_columns("analytics_event")}


def test_0019_gives_every_existing_event_a_distinct_uuid_and_goes_back(app: Flask) -> None:
    migrate(app, "up", "0018")
    event_table = table("analytics_event", *(column(name) for name in EVENT_ROW))
    with app.app_context():
        db.session.execute(table("user", *(column(name) for name in USER_ROW)).insert().values(**USER_ROW))
        db.session.execute(event_table.insert(), [EVENT_ROW] * EVENTS)
        db.session.commit()
    ids_before = [row[0] for row in events(app)]

    migrate(app, "up", "0019")
    upgraded = events(app, "event_id")
    assert [row[0] for row in upgraded] == ids_before  # no row lost
    event_ids = [str(row[1]).lower() for row in upgraded]
    assert len(set(event_ids)) == EVENTS and all(UUID.match(value) for value in event_ids), event_ids[:3]
    with app.app_context():  # the id is unique: the flush's de-duplication relies on it
        with pytest.raises(IntegrityError):
            insert = table("analytics_event", *(column(n) for n in (*EVENT_ROW, "event_id"))).insert()
            db.session.execute(insert.values(**EVENT_ROW, event_id=upgraded[0][1]))
        db.session.rollback()

    migrate(app, "down", "0018")
    assert [row[0] for row in events(app)] == ids_before
    assert "event_id" not in event_columns(app)
    migrate(app, "up", "0019")
    assert len({row[1] for row in events(app, "event_id")}) == EVENTS
