"""Revision 0011 (linked sign-ins): the table appears beside existing accounts, keeps one person per
provider, goes with its account, and a downgrade drops it without touching the accounts."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from conexoos.framework import db
from conexoos.framework.migrations import downgrade, migration_target, upgrade
from tests.conftest import AppFactory

from .test_migration_0002 import ALICE_0_1_0

pytestmark = pytest.mark.database_matrix

INSERT = text(
    "INSERT INTO external_identity (user_id, backend, provider, subject, email, created_at) "
    "VALUES (1, 'oidc', 'corp', :subject, 'a@corp.example', '2026-12-02 10:00:00')"
)


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """The product on a fresh, empty database (no create_all: the revisions build it)."""
    return make_app(schema=False)


def _scalar(app: Flask, sql: str) -> int:
    with app.app_context():
        value = db.session.scalar(text(sql))
        db.session.rollback()
    return int(value or 0)


def test_0011_adds_linked_sign_ins_beside_existing_accounts_and_downgrades(app: Flask) -> None:
    with migration_target(app) as target:
        upgrade(target, "0001")
    with app.app_context():
        db.session.execute(ALICE_0_1_0)
        db.session.commit()
    with migration_target(app) as target:
        upgrade(target, "0011")
    with app.app_context():
        db.session.execute(INSERT, {"subject": "s-1"})
        db.session.commit()
        with pytest.raises(IntegrityError):  # one (backend, provider, subject), one account
            db.session.execute(INSERT, {"subject": "s-1"})
            db.session.commit()
        db.session.rollback()
        indexes = {index["name"] for index in inspect(db.engine).get_indexes("external_identity")}
        assert "ix_external_identity_user_id" in indexes
    assert _scalar(app, "SELECT COUNT(*) FROM external_identity") == 1
    with migration_target(app) as target:
        downgrade(target, "0010")
    with app.app_context():
        assert "external_identity" not in inspect(db.engine).get_table_names()
    assert _scalar(app, f"SELECT COUNT(*) FROM {_user_table(app)}") == 1  # the account stays
    with migration_target(app) as target:
        upgrade(target, "0011")
    with app.app_context():
        db.session.execute(INSERT, {"subject": "s-2"})
        db.session.commit()
        db.session.execute(text(f"DELETE FROM {_user_table(app)} WHERE id = 1"))
        db.session.commit()
    assert _scalar(app, "SELECT COUNT(*) FROM external_identity") == 0  # ON DELETE CASCADE


def _user_table(app: Flask) -> str:
    with app.app_context():
        return str(db.engine.dialect.identifier_preparer.quote("user"))
