"""An event whose transaction commits 30 s late is counted exactly once, on SQLite, PostgreSQL and MariaDB.

A transaction inserts a click and stays open for :data:`HOLD_SECONDS` while roll-ups run, from this
test and from the app's own running scheduler. The held click is invisible to them (on SQLite its writer
lock even makes their writes fail with "database is locked" after the roll-up's bounded wait, and the
scheduler backs off); once it commits, the next roll-up folds it, once.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import insert, select
from sqlalchemy.exc import OperationalError

from conexoos.app.controllers.rollups import ConcurrentRollUp
from conexoos.app.models.persistent import AnalyticsEvent, StatsRollup
from conexoos.app.models.persistent.event import CLICK
from conexoos.framework import db
from conexoos.framework.task_status import task_statuses
from tests.app.analytics_support import insert_event, stats
from tests.conftest import AppFactory
from tests.framework.helpers import wait_until

from .support import creator_with_link, folded, product_app, roll_up_once, stored

pytestmark = pytest.mark.database_matrix

HOLD_SECONDS = 30.0
"""How long the late event's transaction stays open while roll-ups run."""
ROLLUP_EVERY = 1.0
"""The scheduler's roll-up interval in this test (15 s in the product), so it runs often during the hold."""


def late_count(app: Flask) -> int:
    """Events counted under ``utm_source = late`` (hourly rows): 1 once the held click is folded."""
    query = select(StatsRollup.events).where(StatsRollup.grain == "h", StatsRollup.value == "late")
    with app.app_context():
        return sum(db.session.scalars(query))


def test_an_event_committed_30_s_late_is_counted_exactly_once(make_app: AppFactory) -> None:
    app = product_app(make_app)
    alice, link_id = creator_with_link(app)
    now = datetime.now(UTC)
    for number in range(3):
        insert_event(app, alice.id, now - timedelta(minutes=1), CLICK, link_id, visitor=f"early{number}")
    assert roll_up_once(app) == 3
    for number in range(2):  # committed but not folded yet when the late transaction starts
        insert_event(app, alice.id, now - timedelta(seconds=30), CLICK, link_id, visitor=f"pending{number}")
    with app.app_context():
        engine = db.engine
    sqlite = engine.dialect.name == "sqlite"
    scheduler = app.extensions["conexoos"].scheduler
    scheduler.tasks["analytics-rollup"].interval = ROLLUP_EVERY

    connection = engine.connect()
    held = connection.begin()
    row = {"owner_id": alice.id, "link_id": link_id, "kind": CLICK, "occurred_at": datetime.now(UTC)}
    late_id = connection.execute(
        insert(AnalyticsEvent.__table__).values(**row, utm_source="late", visitor_hash="late")
    ).inserted_primary_key[0]
    outcomes: list[object] = []
    scheduler.start()
    try:
        deadline = time.monotonic() + HOLD_SECONDS
        while time.monotonic() < deadline:
            if not sqlite:  # SQLite has one writer: the held transaction blocks every other insert
                insert_event(app, alice.id, datetime.now(UTC), CLICK, link_id, visitor="later")
            try:
                outcomes.append(roll_up_once(app))
            except (ConcurrentRollUp, OperationalError) as error:  # the scheduler's roll-up got there first
                outcomes.append(type(error).__name__)
            time.sleep(0.5)
        assert late_count(app) == 0, "an uncommitted event was counted"
        held.commit()
    finally:
        if held.is_active:
            held.rollback()
        connection.close()

    try:
        assert wait_until(lambda: stored(app)[1] == 0, timeout=30), (
            "the scheduler did not fold the late event"
        )
    finally:
        assert scheduler.stop()
    assert roll_up_once(app) == 0
    total, pending = stored(app)
    assert pending == 0
    assert late_count(app) == 1
    assert folded(app, CLICK) == total  # every stored click exactly once: none skipped, none twice
    today = datetime.now(UTC).date().isoformat()
    assert stats(alice, from_=today, to=today)["totals"]["clicks"] == total
    if sqlite:
        assert "OperationalError" in outcomes, outcomes  # the roll-up timed out on the held lock ...
        [status] = [s for s in task_statuses(app) if s.name == "analytics-rollup"]
        assert "database is locked" in status.last_error  # ... and the scheduler recorded it, then went on
        assert status.last_success is not None and status.last_success > status.last_failure  # type: ignore[operator]
    else:
        assert total > 3 + 2 + 1 + 10, "later events were stored while the late one was held"
        assert any(isinstance(outcome, int) and outcome > 0 for outcome in outcomes), outcomes
    assert isinstance(late_id, int)
