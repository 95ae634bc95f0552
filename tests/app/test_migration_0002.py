"""Revision 0002 (exact analytics text, quarantine, pending index) on a database holding 0.1.0 data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import column, table, text

from conexoos.app.controllers import rollups
from conexoos.framework import db
from conexoos.framework.migrations import (
    current_revisions,
    downgrade,
    head_revisions,
    migration_target,
    upgrade,
)
from tests.conftest import AppFactory

pytestmark = pytest.mark.database_matrix

HOUR = datetime(2026, 3, 10, 9)
"""Naive UTC, as the 0.1.0 columns store it."""
USER = table(
    "user",
    *(column(name) for name in ("id", "email", "username", "password_hash", "display_name", "bio")),
    *(column(name) for name in ("is_admin", "subscription_plan", "subscription_status")),
    column("billing_event_at"),
    column("created_at"),
)
EVENT_COLUMNS = ("owner_id", "kind", "occurred_at", "referrer_host", "utm_source", "utm_medium")
EVENT_COLUMNS += ("utm_campaign", "device", "os", "browser", "country", "visitor_hash")
EVENT = table("analytics_event", *(column(name) for name in EVENT_COLUMNS))
EVENT_AT_HEAD = table("analytics_event", *(column(name) for name in (*EVENT_COLUMNS, "event_id")))
"""Since 0019 every event carries its own id (the write buffer's, which de-duplicates the flush)."""
ROLLUP_COLUMNS = ("owner_id", "grain", "bucket", "kind", "link_id", "dimension", "value", "events", "uniques")
ROLLUP = table("stats_rollup", *(column(name) for name in ROLLUP_COLUMNS))
FOLDED = {"owner_id": 1, "kind": "view", "link_id": 0, "dimension": "utm_source", "value": "promo"}
FOLDED |= {"events": 3, "uniques": 0}


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """The product on a fresh, empty database (no create_all: the revisions build it)."""
    return make_app(schema=False)


def _event(minute: int, utm_source: str, visitor: str) -> dict[str, object]:
    return {
        "owner_id": 1,
        "kind": "view",
        "occurred_at": HOUR + timedelta(minutes=minute),
        "referrer_host": "ex.example",
        "utm_source": utm_source,
        "utm_medium": "",
        "utm_campaign": "",
        "device": "mobile",
        "os": "iOS",
        "browser": "Safari",
        "country": "FR",
        "visitor_hash": visitor,
    }


ALICE_0_1_0 = USER.insert().values(
    id=1,
    email="a@example.com",
    username="alice",
    password_hash="x",
    display_name="",
    bio="",
    is_admin=False,
    subscription_plan="gratis",
    subscription_status="",
    billing_event_at=0,
    created_at=HOUR,
)
"""The user row as release 0.1.0 stored it (the seeds' owner of every event)."""


def _seed_0_1_0(app: Flask) -> None:
    """A user, three raw events and their rollups, as release 0.1.0 stored them."""
    with app.app_context():
        db.session.execute(ALICE_0_1_0)
        db.session.execute(EVENT.insert(), [_event(number, "promo", f"v{number}") for number in range(3)])
        # Folded as 0.1.0's roll-up left them: its utm_source rows, and the watermark past the 3 events.
        hour = int(HOUR.replace(tzinfo=UTC).timestamp()) // 900
        for grain, bucket in (("h", hour), ("d", hour - hour % 96)):
            db.session.execute(ROLLUP.insert().values(bucket=bucket, grain=grain, **FOLDED))
        db.session.execute(  # past the three events, whatever ids the database gave them
            text("INSERT INTO stats_watermark (id, last_event_id) SELECT 1, MAX(id) FROM analytics_event")
        )
        db.session.commit()


def _dialect(app: Flask) -> str:
    with app.app_context():
        return str(db.engine.dialect.name)


@contextmanager
def _refused_on_mariadb(app: Flask) -> Iterator[None]:
    if _dialect(app) == "mysql":
        with pytest.raises(Exception, match="cannot downgrade below 0002"):
            yield
    else:
        yield


def _product_object(item: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Only the product's tables: other tests in the same process add their own models to the metadata."""
    if type_ != "table":
        return True
    product = {
        mapper.local_table.name
        for mapper in db.Model.registry.mappers
        if mapper.class_.__module__.startswith("conexoos.app.")
    }
    return name in product


def _check_head(app: Flask) -> None:
    with app.app_context():
        assert db.session.scalar(text("SELECT COUNT(*) FROM analytics_event")) == 3
        assert (
            db.session.scalar(text("SELECT SUM(events) FROM stats_rollup WHERE dimension = 'utm_source'"))
            == 6
        )
        options = {"compare_type": True, "include_object": _product_object}
        context = MigrationContext.configure(db.session.connection(), opts=options)
        differences = compare_metadata(context, db.metadatas[None])
        assert differences == [], differences
        if db.engine.dialect.name == "mysql":
            collations = db.session.execute(
                text(
                    "SELECT DISTINCT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                    "DATABASE() AND TABLE_NAME IN ('analytics_event', 'stats_rollup') "  # 0002's tables
                    "AND COLUMN_NAME IN ('utm_source', 'referrer_host', 'value', 'country')"
                )
            ).all()
            assert [row[0] for row in collations] == ["utf8mb4_nopad_bin"]
        db.session.rollback()


def test_0002_upgrades_0_1_0_data_matches_the_models_and_downgrades(app: Flask) -> None:
    with migration_target(app) as target:
        upgrade(target, "0001")
    _seed_0_1_0(app)
    with migration_target(app) as target:
        upgrade(target, "head")
        assert current_revisions(target) == head_revisions(target)
    _check_head(app)
    with app.app_context():  # what 0.1.0 could not fold on MariaDB now folds, beside the old row
        db.session.execute(
            EVENT_AT_HEAD.insert(), [{**_event(30, "Promo", "v9"), "event_id": str(uuid.uuid4())}]
        )
        db.session.commit()
        assert rollups.roll_up(HOUR.replace(tzinfo=UTC) + timedelta(hours=2)) == 1
        rows = db.session.execute(
            text("SELECT value, events FROM stats_rollup WHERE dimension = 'utm_source' AND grain = 'h'")
        ).all()
        assert sorted(tuple(row) for row in rows) == [("Promo", 1), ("promo", 3)]
        db.session.rollback()

    with migration_target(app) as target:
        # Later revisions first, in their own run: MariaDB commits each DDL statement, so a refusal in
        # 0002 would roll back the version recorded after them but not what they undid.
        downgrade(target, "0002")
    with migration_target(app) as target, _refused_on_mariadb(app):
        downgrade(target, "0001")
    with app.app_context():
        db.session.execute(text("DELETE FROM stats_rollup WHERE value = 'Promo'"))
        db.session.execute(text("DELETE FROM analytics_event WHERE utm_source = 'Promo'"))
        db.session.commit()
    with migration_target(app) as target:
        downgrade(target, "0001")
        assert current_revisions(target) == ("0001",)
        upgrade(target, "head")
    _check_head(app)
