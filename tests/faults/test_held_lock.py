"""A session that holds the roll-up's lock row (``UPDATE stats_watermark`` left open, as a forgotten
``psql`` would) stops nothing for long, on SQLite, PostgreSQL and MariaDB:

- a roll-up gives up after its bounded lock wait with an ``OperationalError``, which the scheduler logs in
  one line, records as a failure and retries; the events stay pending, none is lost;
- the other tasks go on running meanwhile (each run is a thread of its own);
- any other statement waits at most the connection's ``lock_timeout`` (PostgreSQL, MariaDB);
- once the session ends, the next roll-up folds every event exactly once.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from conexoos.app.controllers.rollups import LOCK_WAIT_MS
from conexoos.app.models.persistent import StatsWatermark, User
from conexoos.app.models.persistent.event import CLICK
from conexoos.framework import db
from conexoos.framework.task_status import task_statuses
from tests.app.analytics_support import insert_event
from tests.conftest import AppFactory
from tests.framework.helpers import wait_until

from .support import creator_with_link, folded, product_app, roll_up_once, stored

pytestmark = pytest.mark.database_matrix

LOCK_TIMEOUT = 2
"""``DATABASE.main.lock_timeout`` in this test (10 s by default)."""
HOLD_SECONDS = 12.0
PROBE_INTERVAL = 0.5
"""Seconds between two runs of the probe task that must go on while the roll-up waits."""


def timed(function: object, limit: float) -> tuple[float, BaseException | None]:
    """Run ``function`` in a thread; (seconds it took, what it raised); fails if it outlasts ``limit``."""
    outcome: list[BaseException | None] = []

    def call() -> None:
        try:
            function()  # type: ignore[operator]
        except BaseException as error:  # noqa: BLE001 (handed back to the test)
            outcome.append(error)
        else:
            outcome.append(None)

    started = time.monotonic()
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(limit)
    assert not thread.is_alive(), f"still waiting on the held lock after {limit:.0f} s"
    return time.monotonic() - started, outcome[0]


def test_a_held_lock_row_bounds_the_roll_up_and_stops_no_other_task(make_app: AppFactory) -> None:
    app = product_app(make_app, DATABASE={"main": {"lock_timeout": LOCK_TIMEOUT}})
    alice, link_id = creator_with_link(app)
    now = datetime.now(UTC)
    insert_event(app, alice.id, now - timedelta(minutes=1), CLICK, link_id, visitor="first")
    assert roll_up_once(app) == 1  # the lock row exists
    for number in range(3):
        insert_event(app, alice.id, now - timedelta(seconds=30), CLICK, link_id, visitor=f"v{number}")
    with app.app_context():
        engine = db.engine
    sqlite = engine.dialect.name == "sqlite"
    scheduler = app.extensions["conexoos"].scheduler
    scheduler.tasks["analytics-rollup"].interval = 1.0
    ticks: list[float] = []
    scheduler.every(PROBE_INTERVAL, lambda: ticks.append(time.monotonic()), name="probe")

    connection = engine.connect()
    held = connection.begin()
    connection.execute(update(StatsWatermark).where(StatsWatermark.id == 1).values(last_event_id=0))
    scheduler.start()
    try:
        seconds, error = timed(lambda: roll_up_once(app), LOCK_WAIT_MS / 1000 + 10)
        assert isinstance(error, OperationalError), error
        assert seconds < LOCK_WAIT_MS / 1000 + 3
        if not sqlite:  # any statement: the connection's lock_timeout (SQLite keeps its busy timeout)

            def touch_lock_row() -> None:
                with app.app_context():
                    try:
                        db.session.execute(update(StatsWatermark).values(last_event_id=StatsWatermark.id))
                    finally:
                        db.session.rollback()

            seconds, error = timed(touch_lock_row, LOCK_TIMEOUT + 10)
            assert isinstance(error, OperationalError), error
            assert seconds < LOCK_TIMEOUT + 2
        ticks_before = len(ticks)
        slept = HOLD_SECONDS - 10 if sqlite else 4
        time.sleep(slept)
        # At least half the probe's runs in that time (a stopped scheduler makes none): on SQLite's 2 s,
        # "more than 3" of the 4 at most failed on a loaded machine with 3.
        expected = slept / PROBE_INTERVAL / 2
        assert len(ticks) - ticks_before >= expected, "the other tasks stopped while the roll-up waited"
        [status] = [s for s in task_statuses(app) if s.name == "analytics-rollup"]
        assert status.failures >= 1 and status.last_error.startswith("task: "), status
        assert "lock" in status.last_error.lower(), status  # PostgreSQL and MariaDB name the lock wait
        assert stored(app)[1] == 3, "the pending events were kept"
        held.rollback()
    finally:
        if held.is_active:
            held.rollback()
        connection.close()
    try:
        assert wait_until(lambda: stored(app)[1] == 0, timeout=30), "the roll-up did not resume"
    finally:
        assert scheduler.stop()
    total, pending = stored(app)
    assert (total, pending) == (4, 0)
    assert folded(app, CLICK) == 4


def test_a_request_blocked_by_a_held_row_answers_503_within_its_request_timeout(make_app: AppFactory) -> None:
    """The request bound is the driver's (psycopg, PyMySQL), here shorter than the lock wait."""
    app = product_app(make_app, DATABASE={"main": {"request_timeout": 2, "lock_timeout": 60}})
    alice, _link_id = creator_with_link(app)
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite is a file: its waits are its busy timeout, there is no server to stop answering")
    connection = engine.connect()
    held = connection.begin()
    connection.execute(update(User).where(User.id == alice.id).values(bio="held"))
    try:
        form = {"csrf_token": alice.csrf, "display_name": "Blocked", "bio": "new"}
        seconds, answers = timed_request(lambda: alice.client.post("/dashboard/settings", data=form), 20)
        assert answers.status_code == 503, answers.status_code
        assert seconds < 2 + 3, seconds
    finally:
        held.rollback()
        connection.close()
    response = alice.client.post("/dashboard/settings", data=form)
    assert response.status_code == 302  # a fresh connection replaced the one dropped
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None and user.display_name == "Blocked"


def timed_request(request: object, limit: float) -> tuple[float, Any]:
    answers: list[Any] = []
    seconds, error = timed(lambda: answers.append(request()), limit)  # type: ignore[operator]
    assert error is None, error
    return seconds, answers[0]
