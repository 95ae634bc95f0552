"""Revision 0015: the media library's table comes and goes; an uploader's deletion keeps the item (with no
uploader), and ids of deleted items are not reused. Marked ``database_matrix``."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import column, delete, select, text

from conexoos.framework import db
from tests.fixtures.empty_database import migrate

from .test_migration_0012 import USER_ROW, users

pytestmark = [pytest.mark.database_matrix, pytest.mark.empty_database]

NOW = datetime(2026, 12, 2, 14, 0)


def tables(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.inspect(db.engine).get_table_names())


def add_item(storage_key: str, uploader: int | None) -> int:
    db.session.execute(
        text(
            "INSERT INTO media_item (kind, storage_key, title, alt_text, original_name, files, content_type, "
            "bytes_total, width, height, uploaded_by_id, created_at) VALUES ('pdf', :key, 'Terms', '', "
            "'terms.pdf', :files, 'application/pdf', 5000000000, NULL, NULL, :uploader, :at)"
        ),
        {
            "key": storage_key,
            "files": f'[{{"name":"library/{storage_key}.pdf","bytes":5000000000}}]',
            "uploader": uploader,
            "at": NOW,
        },
    )
    query = text("SELECT id FROM media_item WHERE storage_key = :key")
    return int(db.session.execute(query, {"key": storage_key}).scalar_one())


def test_0015_adds_the_media_library_and_goes_back(app: Flask) -> None:
    migrate(app, "up", "0014")
    assert "media_item" not in tables(app)
    migrate(app, "up", "0015")
    assert "media_item" in tables(app)
    with app.app_context():
        db.session.execute(users().insert(), [{**USER_ROW, "email": "a@example.com", "username": "ana"}])  # type: ignore[attr-defined]
        uploader = int(db.session.execute(select(users().c.id)).scalar_one())  # type: ignore[attr-defined]
        first = add_item("a" * 32, uploader)
        db.session.commit()
        db.session.execute(delete(users()).where(column("username") == "ana"))
        db.session.commit()
        kept = db.session.execute(text("SELECT uploaded_by_id FROM media_item WHERE id = :i"), {"i": first})
        assert kept.scalar_one() is None  # the item stays, without its uploader
        big = db.session.execute(text("SELECT bytes_total FROM media_item WHERE id = :i"), {"i": first})
        assert big.scalar_one() == 5_000_000_000  # over 4 GB: a BIGINT
        db.session.execute(text("DELETE FROM media_item WHERE id = :i"), {"i": first})
        assert add_item("b" * 32, None) > first  # a deleted item's id is never given again
        db.session.commit()
    migrate(app, "down", "0014")
    assert "media_item" not in tables(app)
    migrate(app, "up", "0015")
    assert "media_item" in tables(app)
