"""Revision 0029: ``invite.mailed_to`` comes empty for every invitation, and goes without touching them.
Marked ``database_matrix`` (SQLite, PostgreSQL, MariaDB)."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import column, inspect, table

from conexoos.framework import db
from tests.fixtures.empty_database import migrate, table_rows

pytestmark = [pytest.mark.database_matrix, pytest.mark.empty_database]

NOW = datetime(2026, 12, 6, 6, 0)


def test_0029_adds_an_empty_mailed_to_and_goes_back(app: Flask) -> None:
    migrate(app, "up", "0028")
    with app.app_context():
        invite = table(
            "invite", *(column(name) for name in ("id", "token_hash", "note", "created_at", "expires_at"))
        )
        for number in (1, 2):
            values = {"id": number, "token_hash": f"{number:064d}", "note": f"n{number}"}
            db.session.execute(invite.insert().values(created_at=NOW, expires_at=NOW, **values))
        db.session.commit()

    migrate(app, "up", "0029")
    assert table_rows(app, "invite", "id", "note", "mailed_to") == [(1, "n1", ""), (2, "n2", "")]
    migrate(app, "down", "0028")
    with app.app_context():
        assert "mailed_to" not in {found["name"] for found in inspect(db.engine).get_columns("invite")}
    assert table_rows(app, "invite", "id", "note") == [(1, "n1"), (2, "n2")]
