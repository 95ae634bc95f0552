"""Revision 0034: ``user.plan_ends_at`` and ``user.period_ends_at`` come empty for every account (no
subscription was scheduled to end before it), every account and its billing columns kept; the downgrade
drops them and keeps the accounts.
Marked ``database_matrix`` (SQLite, PostgreSQL, MariaDB)."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import column, inspect, table, update

from conexoos.framework import db
from tests.fixtures.empty_database import migrate, table_rows

pytestmark = [pytest.mark.database_matrix, pytest.mark.empty_database]

NOW = datetime(2026, 12, 7, 6, 0)
USER = {
    **{"password_hash": "x", "display_name": "", "bio": "", "role": "user"},
    **{"billing_event_at": 1_775_000_000, "created_at": NOW},
    **{"suspension_reason": "", "email_verified_at": NOW},
}
ACCOUNTS = (
    (1, "ana", "pro", "sub_ana", "active"),
    (2, "bo", "gratis", None, ""),
    (3, "cy", "pro", "sub_cy", "past_due"),
)
BILLING = ("id", "email", "subscription_plan", "stripe_subscription_id", "subscription_status")


def test_0034_adds_an_empty_plan_end_keeps_every_account_and_goes_back(app: Flask) -> None:
    migrate(app, "up", "0033")
    with app.app_context():
        for user_id, name, plan, subscription, status in ACCOUNTS:
            values = {
                "id": user_id,
                "username": name,
                "email": f"{name}@example.com",
                "subscription_plan": plan,
                "stripe_subscription_id": subscription,
                "subscription_status": status,
                **USER,
            }
            db.session.execute(table("user", *(column(key) for key in values)).insert().values(**values))
        db.session.commit()
    before = table_rows(app, "user", *BILLING)
    assert len(before) == 3

    migrate(app, "up", "0034")
    assert table_rows(app, "user", *BILLING) == before
    assert table_rows(app, "user", "id", "plan_ends_at", "period_ends_at") == [
        (1, None, None),
        (2, None, None),
        (3, None, None),
    ]
    with app.app_context():
        user = table("user", column("id"), column("plan_ends_at"))
        db.session.execute(update(user).where(user.c.id == 1).values(plan_ends_at=datetime(2027, 1, 4, 10)))
        db.session.commit()
    [(_, stored), *_others] = table_rows(app, "user", "id", "plan_ends_at")
    assert str(stored).startswith("2027-01-04 10:00:00")  # SQLite answers text, the servers a datetime

    migrate(app, "down", "0033")
    with app.app_context():
        names = {found["name"] for found in inspect(db.engine).get_columns("user")}
    assert not names & {"plan_ends_at", "period_ends_at"}
    assert table_rows(app, "user", *BILLING) == before
