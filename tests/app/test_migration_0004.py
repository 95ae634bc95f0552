"""Revision 0004 adds the session registry to a database with rows, loses none, cascades from users,
and goes back down."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import column, func, select, table

from conexoos.framework import db
from conexoos.framework.migrations import downgrade, migration_target, upgrade
from tests.conftest import AppFactory

pytestmark = pytest.mark.database_matrix

NOW = datetime(2026, 12, 2, 6, 0)
"""Naive UTC, as the columns store it."""
USER_ROW = {
    **{"password_hash": "x", "display_name": "", "bio": "", "is_admin": False},
    **{"subscription_plan": "gratis", "subscription_status": "", "billing_event_at": 0, "created_at": NOW},
}
USER = table("user", column("id"), column("email"), column("username"), *(column(name) for name in USER_ROW))
SESSION_ROW = {"device": "", "place": "", "created_at": NOW, "last_seen_at": NOW}
SESSION = table(
    "user_session", column("user_id"), column("sid_hash"), *(column(name) for name in SESSION_ROW)
)


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """The product on a fresh, empty database (no create_all: the revisions build it)."""
    return make_app(schema=False)


def count(app: Flask, rows: object) -> int:
    with app.app_context():
        number = db.session.scalar(select(func.count()).select_from(rows))  # type: ignore[arg-type]
        db.session.rollback()
        return int(number or 0)


def test_0004_adds_the_registry_keeps_the_users_and_downgrades(app: Flask) -> None:
    with migration_target(app) as target:
        upgrade(target, "0002")
    with app.app_context():
        users = [{"email": f"u{n}@example.com", "username": f"u{n}", **USER_ROW} for n in (1, 2)]
        db.session.execute(USER.insert(), users)
        db.session.commit()
    with migration_target(app) as target:
        upgrade(target, "0004")
    assert count(app, USER) == 2
    with app.app_context():
        ids = list(db.session.scalars(select(USER.c.id).order_by(USER.c.id)))
        sessions = [{"user_id": user_id, "sid_hash": f"{user_id:064d}", **SESSION_ROW} for user_id in ids]
        db.session.execute(SESSION.insert(), sessions)
        db.session.execute(USER.delete().where(USER.c.id == ids[0]))
        db.session.commit()
    assert count(app, SESSION) == 1  # the deleted user's session went with them (ON DELETE CASCADE)
    with migration_target(app) as target:
        downgrade(target, "0002")
        upgrade(target, "0004")
    assert count(app, USER) == 1
    assert count(app, SESSION) == 0
