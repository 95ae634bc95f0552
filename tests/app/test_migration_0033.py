"""Revision 0033: the columns naming an account's uploads get an index each, every row kept; the
downgrade drops them. Marked ``database_matrix`` (SQLite, PostgreSQL, MariaDB)."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import column, inspect, table

from conexoos.framework import db
from tests.fixtures.empty_database import migrate, table_rows

pytestmark = [pytest.mark.database_matrix, pytest.mark.empty_database]

NOW = datetime(2026, 12, 7, 6, 0)
USER = {
    **{"password_hash": "x", "display_name": "", "bio": "", "subscription_plan": "gratis"},
    **{"subscription_status": "", "created_at": NOW, "role": "user", "billing_event_at": 0},
    **{"suspension_reason": "", "email_verified_at": NOW},
}
INDEXED = {
    "user": "avatar",
    "page_appearance": "background_image",
    "product": "image",
    "user_link": "icon",
}


def _indexed_columns(app: Flask) -> dict[str, set[str]]:
    """For each table of INDEXED, the single columns an index of its own covers."""
    with app.app_context():
        inspector = inspect(db.engine)
        return {
            name: {
                index["column_names"][0]
                for index in inspector.get_indexes(name)
                if len(index["column_names"]) == 1
            }
            for name in INDEXED
        }


def test_0033_indexes_the_upload_names_and_keeps_every_row(app: Flask) -> None:
    migrate(app, "up", "0032")
    with app.app_context():
        for user_id, name, avatar in ((1, "ana", "avatars/a1.webp"), (2, "bo", None)):
            row = {"id": user_id, "username": name, "email": f"{name}@example.com", "avatar": avatar, **USER}
            db.session.execute(table("user", *(column(key) for key in row)).insert().values(**row))
        db.session.commit()
    assert all(INDEXED[name] not in columns for name, columns in _indexed_columns(app).items())

    migrate(app, "up", "0033")
    assert table_rows(app, "user", "id", "avatar") == [(1, "avatars/a1.webp"), (2, None)]
    assert all(INDEXED[name] in columns for name, columns in _indexed_columns(app).items())

    migrate(app, "down", "0032")
    assert table_rows(app, "user", "id", "avatar") == [(1, "avatars/a1.webp"), (2, None)]
    assert all(INDEXED[name] not in columns for name, columns in _indexed_columns(app).items())
