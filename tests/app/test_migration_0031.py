"""Revision 0031: an address stored with quotes its local part does not need loses them, unless another
account holds the unquoted one; quotes that are needed stay. Marked ``database_matrix`` (SQLite,
PostgreSQL, MariaDB)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import column, table

from conexoos.framework import db
from tests.app.test_migration_0030 import USER
from tests.fixtures.empty_database import migrate, table_rows

pytestmark = [pytest.mark.database_matrix, pytest.mark.empty_database]

ADDRESSES = {
    1: '"ana"@example.com',  # needless: rewritten
    2: '"Bo.Lee"@example.com',  # needless, in capitals: rewritten lowercased, as sign-up stores it
    3: '"cy"@example.com',  # its unquoted form is another account's: kept
    4: "cy@example.com",
    5: '"d b"@example.com',  # needs its quotes: kept
    6: "eve@example.com",
}


def test_0031_unquotes_needless_quotes_and_keeps_every_account(app: Flask) -> None:
    migrate(app, "up", "0030")
    with app.app_context():
        for user_id, email in ADDRESSES.items():
            values = {"id": user_id, "username": f"user{user_id}", "email": email, **USER}
            db.session.execute(table("user", *(column(key) for key in values)).insert().values(**values))
        db.session.commit()

    migrate(app, "up", "0031")
    assert table_rows(app, "user", "id", "email") == [
        (1, "ana@example.com"),
        (2, "bo.lee@example.com"),
        (3, '"cy"@example.com'),
        (4, "cy@example.com"),
        (5, '"d b"@example.com'),
        (6, "eve@example.com"),
    ]
    migrate(app, "down", "0030")
    assert [row[0] for row in table_rows(app, "user", "id")] == list(ADDRESSES)
