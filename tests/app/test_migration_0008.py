"""Revision 0008 (the events table as the roll-up's queue) on a database the watermark roll-up left."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from flask import Flask
from sqlalchemy import text

from conexoos.app.controllers import rollups
from conexoos.framework import db
from conexoos.framework.migrations import downgrade, migration_target, upgrade
from tests.conftest import AppFactory

from .test_migration_0002 import ALICE_0_1_0, EVENT, FOLDED, HOUR, ROLLUP, _event

pytestmark = pytest.mark.database_matrix


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """The product on a fresh, empty database (no create_all: the revisions build it)."""
    return make_app(schema=False)


def _seed_0002(app: Flask) -> None:
    """Five events, the first three folded (their rollups, watermark 3), the last two pending."""
    with app.app_context():
        db.session.execute(ALICE_0_1_0)
        db.session.execute(EVENT.insert(), [_event(number, "promo", f"v{number}") for number in range(5)])
        db.session.execute(ROLLUP.insert().values(grain="h", bucket=_hour(), **FOLDED))
        db.session.execute(text("INSERT INTO stats_watermark (id, last_event_id) VALUES (1, 3)"))
        db.session.commit()


def _hour() -> int:
    return int(HOUR.replace(tzinfo=UTC).timestamp()) // 900


def _flags(app: Flask) -> list[tuple[int, int]]:
    with app.app_context():
        rows = db.session.execute(text("SELECT id, rolled_up FROM analytics_event ORDER BY id")).all()
        db.session.rollback()
    return [(int(row[0]), int(row[1])) for row in rows]


def _promo(app: Flask) -> int:
    with app.app_context():
        total = db.session.scalar(
            text("SELECT SUM(events) FROM stats_rollup WHERE grain = 'h' AND dimension = 'utm_source'")
        )
        db.session.rollback()
    return int(total or 0)


def test_0008_keeps_counted_events_counted_and_the_rest_pending(app: Flask) -> None:
    with migration_target(app) as target:
        upgrade(target, "0002")
    _seed_0002(app)
    with migration_target(app) as target:
        upgrade(target, "0008")
    assert _flags(app) == [(1, 1), (2, 1), (3, 1), (4, 0), (5, 0)]
    with migration_target(app) as target:
        upgrade(target, "0019")  # today's roll-up reads the events as today's model has them
    with app.app_context():
        assert rollups.roll_up(HOUR.replace(tzinfo=UTC) + timedelta(hours=1)) == 2
        assert rollups.roll_up(HOUR.replace(tzinfo=UTC) + timedelta(hours=1)) == 0
    assert _promo(app) == 5  # 3 counted before + 2 pending, none twice
    assert _flags(app) == [(number, 1) for number in range(1, 6)]

    with app.app_context():  # a late commit: a pending event below rolled-up ones
        db.session.execute(text("UPDATE analytics_event SET rolled_up = :no WHERE id = 2"), {"no": False})
        db.session.commit()
    with migration_target(app) as target, pytest.raises(Exception, match="cannot downgrade below 0008"):
        downgrade(target, "0002")
    with app.app_context():
        db.session.execute(text("UPDATE analytics_event SET rolled_up = :yes WHERE id = 2"), {"yes": True})
        db.session.commit()
    with migration_target(app) as target:
        downgrade(target, "0002")
    with app.app_context():
        assert db.session.scalar(text("SELECT last_event_id FROM stats_watermark WHERE id = 1")) == 5
        db.session.rollback()
    with migration_target(app) as target:
        upgrade(target, "0008")
    assert _flags(app) == [(number, 1) for number in range(1, 6)]
