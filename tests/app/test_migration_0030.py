"""Revision 0030: ``user.email_undone_from`` and ``user.email_undone_at`` come empty for every account
(nothing undone since), and go without touching the accounts. Marked ``database_matrix`` (SQLite,
PostgreSQL, MariaDB)."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import column, inspect, table

from conexoos.framework import db
from tests.fixtures.empty_database import migrate, table_rows

pytestmark = [pytest.mark.database_matrix, pytest.mark.empty_database]

NOW = datetime(2026, 12, 6, 6, 0)
USER = {
    **{"password_hash": "x", "display_name": "", "bio": "", "subscription_plan": "gratis"},
    **{"subscription_status": "", "billing_event_at": 0, "created_at": NOW, "role": "user"},
    **{"suspension_reason": "", "email_verified_at": NOW},
}


def test_0030_adds_empty_undo_times_and_goes_back(app: Flask) -> None:
    migrate(app, "up", "0029")
    with app.app_context():
        for user_id, name in ((1, "ana"), (2, "bo")):
            values = {"id": user_id, "username": name, "email": f"{name}@example.com", **USER}
            db.session.execute(table("user", *(column(key) for key in values)).insert().values(**values))
        db.session.commit()

    migrate(app, "up", "0030")
    columns = ("id", "email", "email_undone_from", "email_undone_at")
    assert table_rows(app, "user", *columns) == [
        (1, "ana@example.com", None, None),
        (2, "bo@example.com", None, None),
    ]
    migrate(app, "down", "0029")
    with app.app_context():
        names = {found["name"] for found in inspect(db.engine).get_columns("user")}
    assert not names & {"email_undone_from", "email_undone_at"}
    assert table_rows(app, "user", "id", "email") == [(1, "ana@example.com"), (2, "bo@example.com")]
