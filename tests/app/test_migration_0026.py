"""Revision 0026: ``invite.revoked_at`` comes, filled for the invitations the audit log shows revoked, and
goes. Marked ``database_matrix`` (SQLite, PostgreSQL, MariaDB)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import column, table

from conexoos.framework import db
from tests.fixtures.empty_database import migrate, table_rows

pytestmark = [pytest.mark.database_matrix, pytest.mark.empty_database]

NOW = datetime(2026, 12, 4, 6, 0)
REVOKED_AT = NOW + timedelta(hours=1)  # 07:00


def invite(invite_id: int, expires_at: datetime) -> dict[str, object]:
    return {
        "id": invite_id,
        "token_hash": f"{invite_id:064d}",
        "note": "",
        "created_at": NOW,
        "expires_at": expires_at,
    }


def revoke_entry(target_id: str) -> dict[str, object]:
    return {
        "at": REVOKED_AT,
        "actor_name": "boss",
        "action": "invite.revoke",
        "target_type": "invite",
        "target_id": target_id,
        "summary": f"invitation {target_id} revoked",
        "remote_address": "",
    }


def insert(app: Flask, name: str, row: dict[str, object]) -> None:
    with app.app_context():
        db.session.execute(table(name, *(column(c) for c in row)).insert().values(**row))
        db.session.commit()


def columns_of(app: Flask, name: str) -> set[str]:
    with app.app_context():
        return {found["name"] for found in db.inspect(db.engine).get_columns(name)}


def test_0026_marks_the_invitations_the_audit_log_shows_revoked_and_goes_back(app: Flask) -> None:
    migrate(app, "up", "0025")
    insert(app, "invite", invite(1, REVOKED_AT))  # revoked: the revocation moved its expiry
    insert(app, "invite", invite(2, NOW + timedelta(days=14)))  # open
    insert(app, "invite", invite(3, NOW))  # expired
    insert(app, "audit_log", revoke_entry("1"))
    insert(app, "audit_log", revoke_entry("not a number"))

    migrate(app, "up", "0026")
    stored = table_rows(app, "invite", "id", "revoked_at")
    revoked = [(found, when and str(when)[:16]) for found, when in stored]
    assert revoked == [(1, "2026-12-04 07:00"), (2, None), (3, None)]  # SQLite reads back the text

    migrate(app, "down", "0025")
    assert "revoked_at" not in columns_of(app, "invite")
    assert table_rows(app, "invite", "id") == [(1,), (2,), (3,)]
