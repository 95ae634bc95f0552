"""Revision 0028: reports outlive the reported account. ``report.reported_username`` is filled from the
accounts, ``report.user_id`` becomes ``ON DELETE SET NULL``; the downgrade deletes only the reports whose
account is gone and brings the cascade back. Marked ``database_matrix`` (SQLite, PostgreSQL, MariaDB)."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import column, table

from conexoos.framework import db
from tests.fixtures.empty_database import migrate, table_rows

pytestmark = [pytest.mark.database_matrix, pytest.mark.empty_database]

NOW = datetime(2026, 12, 6, 6, 0)
USER = {
    **{"password_hash": "x", "display_name": "", "bio": "", "subscription_plan": "gratis"},
    **{"subscription_status": "", "billing_event_at": 0, "created_at": NOW, "role": "user"},
    **{"suspension_reason": ""},
}
REPORT = {"reason": "phishing", "details": "", "reporter_network": "192.0.2.0/24", "snapshot": "[]"}


def run(statement: object) -> None:
    db.session.execute(statement)  # type: ignore[call-overload]
    db.session.commit()


def insert(name: str, **values: object) -> None:
    db.session.execute(table(name, *(column(key) for key in values)).insert().values(**values))


def delete_user(app: Flask, user_id: int) -> None:
    with app.app_context():
        user = table("user", column("id"))
        run(user.delete().where(user.c.id == user_id))


def test_0028_keeps_reports_of_deleted_accounts_and_goes_back(app: Flask) -> None:
    migrate(app, "up", "0027")
    with app.app_context():
        for user_id, name in ((1, "ana"), (2, "bo"), (3, "cy")):
            insert("user", id=user_id, username=name, email=f"{name}@example.com", **USER)
        for report_id, user_id, status in (
            (1, 1, "open"),
            (2, 2, "dismissed"),
            (3, 2, "open"),
            (4, 3, "open"),
        ):
            handler = 3 if status == "dismissed" else None
            values = {"status": status, "created_at": NOW, "action": "", "handled_by_id": handler}
            insert("report", id=report_id, user_id=user_id, **values, **REPORT)
        db.session.commit()

    migrate(app, "up", "0028")
    columns = ("id", "user_id", "reported_username", "status", "handled_by_username")
    assert table_rows(app, "report", *columns) == [
        (1, 1, "ana", "open", ""),
        (2, 2, "bo", "dismissed", "cy"),
        (3, 2, "bo", "open", ""),
        (4, 3, "cy", "open", ""),
    ]
    delete_user(app, 2)  # the database, not the product, empties the column
    assert table_rows(app, "report", "id", "user_id", "reported_username") == [
        (1, 1, "ana"),
        (2, None, "bo"),
        (3, None, "bo"),
        (4, 3, "cy"),
    ]

    migrate(app, "down", "0027")
    assert table_rows(app, "report", "id", "user_id") == [(1, 1), (4, 3)]
    delete_user(app, 3)  # the cascade is back
    assert table_rows(app, "report", "id", "user_id") == [(1, 1)]
    migrate(app, "up", "0028")
    assert table_rows(app, "report", "id", "user_id", "reported_username") == [(1, 1, "ana")]
