"""Revision 0012: ``user.role`` replaces ``user.is_admin`` with every row kept, both ways; the audit log,
site settings and invitations come and go. Marked ``database_matrix`` (SQLite, PostgreSQL, MariaDB)."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import column, delete, select, table, text, update

from conexoos.framework import db
from tests.fixtures.empty_database import migrate

pytestmark = [pytest.mark.database_matrix, pytest.mark.empty_database]

NOW = datetime(2026, 12, 2, 6, 0)
BEFORE = "0010"
USER_ROW = {
    **{"password_hash": "x", "display_name": "", "bio": "", "subscription_plan": "gratis"},
    **{"subscription_status": "", "billing_event_at": 0, "created_at": NOW},
}
NAMES = ("ana", "bo", "cy")


def users(*extra: str) -> object:
    return table(
        "user",
        column("id"),
        column("email"),
        column("username"),
        *(column(name) for name in USER_ROW),
        *(column(name) for name in extra),
    )


def rows(app: Flask, *columns: str) -> list[tuple[object, ...]]:
    with app.app_context():
        found = db.session.execute(
            select(*(column(name) for name in ("username", *columns)))
            .select_from(table("user"))
            .order_by(column("id"))
        ).all()
        db.session.rollback()
    return [tuple(int(v) if isinstance(v, bool) else v for v in row) for row in found]


def test_0012_turns_is_admin_into_a_role_and_back_without_losing_a_row(app: Flask) -> None:
    migrate(app, "up", BEFORE)
    with app.app_context():
        rows_0010 = users("is_admin")
        db.session.execute(
            rows_0010.insert(),
            [  # type: ignore[attr-defined]
                {**USER_ROW, "email": f"{name}@example.com", "username": name, "is_admin": name == "ana"}
                for name in NAMES
            ],
        )
        db.session.commit()

    migrate(app, "up", "0012")
    assert rows(app, "role", "suspended_at", "suspension_reason") == [
        ("ana", "admin", None, ""),
        ("bo", "user", None, ""),
        ("cy", "user", None, ""),
    ]
    with app.app_context():  # a moderator, an audit entry by ana, a setting and an invitation
        db.session.execute(update(users("role")).where(column("username") == "cy").values(role="moderator"))
        db.session.execute(
            text(
                "INSERT INTO audit_log (at, actor_id, actor_name, action, target_type, target_id, summary, "
                "remote_address) VALUES (:at, 1, 'ana', 'user.role', 'user', '3', 'cy is a moderator', '')"
            ),
            {"at": NOW},
        )
        setting = table("site_setting", column("key"), column("value"), column("updated_at"))
        db.session.execute(setting.insert().values(key="site_name", value='"X"', updated_at=NOW))
        db.session.commit()

    migrate(app, "down", BEFORE)
    assert rows(app, "is_admin") == [
        ("ana", 1),
        ("bo", 0),
        ("cy", 0),
    ]  # a moderator is an ordinary user in 0010
    with app.app_context():
        tables = set(db.inspect(db.engine).get_table_names())
    assert not tables & {"audit_log", "site_setting", "invite"}

    migrate(app, "up", "0012")
    assert rows(app, "role") == [("ana", "admin"), ("bo", "user"), ("cy", "user")]


def test_deleting_an_actor_keeps_their_entries_with_the_name(app: Flask) -> None:
    migrate(app, "up", "0012")
    with app.app_context():
        db.session.execute(users().insert(), [{**USER_ROW, "email": "a@example.com", "username": "ana"}])  # type: ignore[attr-defined]
        db.session.execute(
            text(
                "INSERT INTO audit_log (at, actor_id, actor_name, action, target_type, target_id, summary, "
                "remote_address) VALUES (:at, 1, 'ana', 'setup.complete', 'user', '1', '', '')"
            ),
            {"at": NOW},
        )
        db.session.commit()
        db.session.execute(delete(users()).where(column("username") == "ana"))
        db.session.commit()
        kept = db.session.execute(text("SELECT actor_id, actor_name FROM audit_log")).all()
        db.session.rollback()
    assert [tuple(row) for row in kept] == [(None, "ana")]
