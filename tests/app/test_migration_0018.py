"""Revision 0018: the pending sign-ups and the reset-request queue come and go; a pending sign-up's username
is unique, and deleting its invitation deletes it. Marked ``database_matrix``."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from conexoos.framework import db
from tests.fixtures.empty_database import migrate

pytestmark = [pytest.mark.database_matrix, pytest.mark.empty_database]

NOW = datetime(2026, 12, 2, 6, 0)
TABLES = {"pending_signup", "reset_request"}
PENDING = text(
    "INSERT INTO pending_signup (token_hash, username, email, password_hash, invite_id, created_at, "
    "expires_at) VALUES (:token, :name, 'p@example.com', 'hash', :invite, :at, :until)"
)


def tables(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.inspect(db.engine).get_table_names())


def pending(name: str, token: str, invite: int | None = None) -> None:
    db.session.execute(
        PENDING,
        {"token": token, "name": name, "invite": invite, "at": NOW, "until": NOW + timedelta(days=1)},
    )


def test_0018_adds_pending_signups_and_reset_requests_and_goes_back(app: Flask) -> None:
    migrate(app, "up", "0017")
    assert not tables(app) & TABLES
    migrate(app, "up", "0018")
    assert tables(app) >= TABLES
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            db.session.execute(text("PRAGMA foreign_keys=ON"))
        db.session.execute(
            text("INSERT INTO invite (token_hash, note, created_at, expires_at) VALUES ('i', '', :at, :at)"),
            {"at": NOW},
        )
        invite_id = int(db.session.execute(text("SELECT id FROM invite")).scalar_one())
        pending("carol", "a" * 64, invite_id)
        pending("dave", "b" * 64)
        db.session.execute(
            text(
                "INSERT INTO reset_request (login, network, requested_at) "
                "VALUES ('carol', '127.0.0.0/24', :at)"
            ),
            {"at": NOW},
        )
        db.session.commit()
        with pytest.raises(IntegrityError):
            pending("carol", "c" * 64)  # one pending sign-up holds a name
        db.session.rollback()
        if db.engine.dialect.name == "sqlite":
            db.session.execute(text("PRAGMA foreign_keys=ON"))
        db.session.execute(text("DELETE FROM invite WHERE id = :i"), {"i": invite_id})
        db.session.commit()
        names = db.session.execute(text("SELECT username FROM pending_signup")).scalars().all()
        assert names == ["dave"]
        db.session.rollback()
    migrate(app, "down", "0017")
    assert not tables(app) & TABLES
    migrate(app, "up", "0018")
    assert tables(app) >= TABLES
