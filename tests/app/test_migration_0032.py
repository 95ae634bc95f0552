"""Revision 0032: ``user.billing_event_at`` holds a Stripe time past 2038 after the upgrade, every value
kept; the downgrade lowers such a time to the last 32-bit second. Marked ``database_matrix`` (SQLite,
PostgreSQL, MariaDB)."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import column, table, update

from conexoos.framework import db
from tests.fixtures.empty_database import migrate, table_rows

pytestmark = [pytest.mark.database_matrix, pytest.mark.empty_database]

NOW = datetime(2026, 12, 7, 6, 0)
USER = {
    **{"password_hash": "x", "display_name": "", "bio": "", "subscription_plan": "gratis"},
    **{"subscription_status": "", "created_at": NOW, "role": "user"},
    **{"suspension_reason": "", "email_verified_at": NOW},
}
IN_2040 = 2_208_988_800  # 2040-01-01, past 2**31 - 1


def test_0032_keeps_every_time_and_holds_times_past_2038(app: Flask) -> None:
    migrate(app, "up", "0031")
    with app.app_context():
        for user_id, name, seen in ((1, "ana", 0), (2, "bo", 2**31 - 1), (3, "cy", 1_775_000_000)):
            values = {
                "id": user_id,
                "username": name,
                "email": f"{name}@example.com",
                "billing_event_at": seen,
            }
            row = {**values, **USER}
            db.session.execute(table("user", *(column(key) for key in row)).insert().values(**row))
        db.session.commit()

    migrate(app, "up", "0032")
    assert table_rows(app, "user", "id", "billing_event_at") == [(1, 0), (2, 2**31 - 1), (3, 1_775_000_000)]
    with app.app_context():
        user = table("user", column("id"), column("billing_event_at"))
        db.session.execute(update(user).where(user.c.id == 1).values(billing_event_at=IN_2040))
        db.session.commit()
    assert table_rows(app, "user", "id", "billing_event_at")[0] == (1, IN_2040)

    migrate(app, "down", "0031")
    expected_first = (
        IN_2040
        if app.extensions["conexoos"].settings.default_database.url.get_backend_name() == "sqlite"
        else 2**31 - 1
    )
    assert table_rows(app, "user", "id", "billing_event_at") == [
        (1, expected_first),
        (2, 2**31 - 1),
        (3, 1_775_000_000),
    ]
