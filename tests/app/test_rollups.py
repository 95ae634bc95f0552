"""Folding raw events into quarter-hour rollups, and pruning raw events, never changes a number."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import false, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from conexoos.app.controllers import rollups, visitors
from conexoos.app.models.persistent import AnalyticsEvent, StatsRollup, StatsSalt, StatsVisitor
from conexoos.app.models.persistent.event import CLICK, EventQuarantine
from conexoos.framework import db
from tests.conftest import AppFactory

from .analytics_support import analytics_app, count_events, insert_event, stats
from .conftest import Account

pytestmark = pytest.mark.database_matrix

RETENTION_DAYS = 30
DAY = datetime(2026, 3, 10, tzinfo=UTC)


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """The product configured for the analytics tests, raw events kept for 30 days."""
    return analytics_app(make_app, APP={"ANALYTICS": {"RETENTION_DAYS": RETENTION_DAYS}})


def rollup_rows(app: Flask) -> list[tuple[Any, ...]]:
    """Every rollup row's key and counts, sorted."""
    with app.app_context():
        rows = db.session.execute(
            select(
                StatsRollup.owner_id,
                StatsRollup.grain,
                StatsRollup.bucket,
                StatsRollup.kind,
                StatsRollup.link_id,
                StatsRollup.dimension,
                StatsRollup.value,
                StatsRollup.events,
                StatsRollup.uniques,
            )
        ).all()
    return sorted(tuple(row) for row in rows)


def fold(app: Flask, now: datetime | None = None, batch_size: int = rollups.BATCH_SIZE) -> int:
    """``roll_up`` at ``now`` in ``batch_size`` batches."""
    with app.app_context():
        return rollups.roll_up(now, batch_size=batch_size)


def pending(app: Flask) -> list[int]:
    """The ids of the events not rolled up yet."""
    with app.app_context():
        query = select(AnalyticsEvent.id).where(AnalyticsEvent.rolled_up == false())
        return sorted(db.session.scalars(query))


def march(account: Account, **params: str) -> dict[str, Any]:
    """The account's report from 1 March to 30 April 2026 (UTC unless ``tz`` is given)."""
    return stats(account, from_="2026-03-01", to="2026-04-30", **params)


def _some_traffic(app: Flask, owner_id: int, link_id: int) -> None:
    """Nine views and three clicks from four visitors over three UTC days, with referrers and devices."""
    for number in range(12):
        moment = DAY + timedelta(hours=5 * number, minutes=number)
        fields = {"referrer_host": f"ref{number % 3}.example", "device": ("mobile", "desktop")[number % 2]}
        if number % 4 == 3:
            insert_event(app, owner_id, moment, CLICK, link_id, visitor=f"v{number % 4}", **fields)
        else:
            insert_event(app, owner_id, moment, visitor=f"v{number % 4}", **fields)


@pytest.fixture
def link_id(alice: Account) -> int:
    """One of Alice's links."""
    return int(alice.add_link("Shop", "https://shop.example/")["id"])


def test_rolling_up_twice_counts_once(app: Flask, alice: Account, link_id: int) -> None:
    _some_traffic(app, alice.id, link_id)
    raw = march(alice)
    assert raw["totals"] == {
        "views": 9,
        "clicks": 3,
        "unique_visitors": 10,
        "click_through_rate": 0.3333,
        "product_clicks": 0,
    }

    assert fold(app) == 12
    rows = rollup_rows(app)
    quarters = [row for row in rows if row[1] == "q"]  # (owner, grain, bucket, kind, link, dimension, ...)
    assert sum(row[7] for row in quarters if row[5] == "") == 12
    assert sum(row[8] for row in quarters) == 10  # four visitors on the 10th and 11th, two on the 12th
    assert sum(row[7] for row in rows if row[1] == "h" and row[5] == "") == 12
    assert march(alice) == raw

    assert fold(app) == 0
    assert rollup_rows(app) == rows
    assert march(alice) == raw
    assert march(alice, tz="America/New_York") == stats(
        alice, from_="2026-03-01", to="2026-04-30", tz="America/New_York"
    )


def test_events_after_the_given_moment_wait_for_a_later_run(app: Flask, alice: Account, link_id: int) -> None:
    now = DAY + timedelta(hours=12)
    earlier = insert_event(app, alice.id, now - timedelta(seconds=1), visitor="a")
    later = insert_event(app, alice.id, now + timedelta(seconds=2), CLICK, link_id, visitor="a")
    report = march(alice)
    totals = report["totals"]
    assert (totals["views"], totals["clicks"], totals["unique_visitors"]) == (1, 1, 1)

    assert fold(app, now) == 1
    assert pending(app) == [later] and earlier not in pending(app)
    assert march(alice) == report

    assert fold(app, now + timedelta(seconds=5)) == 1
    assert march(alice) == report
    assert fold(app, now + timedelta(seconds=5)) == 0
    assert pending(app) == []


def test_an_event_with_a_lower_id_stored_after_a_roll_up_is_folded_by_the_next(
    app: Flask, alice: Account
) -> None:
    """What a late commit looks like to the roll-up: a pending id below ids already folded."""
    insert_event(app, alice.id, DAY, visitor="a")
    gap = insert_event(app, alice.id, DAY, visitor="b")
    insert_event(app, alice.id, DAY, visitor="c")
    with app.app_context():
        late = db.session.get(AnalyticsEvent, gap)
        assert late is not None
        held = {column.name: getattr(late, column.name) for column in AnalyticsEvent.__table__.columns}
        db.session.delete(late)
        db.session.commit()
    assert fold(app) == 2
    with app.app_context():
        db.session.add(AnalyticsEvent(**held))  # the same id, stored after the fold that passed it
        db.session.commit()
    assert pending(app) == [gap]
    assert march(alice)["totals"]["views"] == 3
    assert fold(app) == 1
    assert pending(app) == []
    assert march(alice)["totals"]["views"] == 3
    assert march(alice)["totals"]["unique_visitors"] == 3


def test_small_batches_count_like_one_batch(app: Flask, alice: Account, link_id: int) -> None:
    _some_traffic(app, alice.id, link_id)
    raw = march(alice)
    assert fold(app, batch_size=5) == 12
    assert march(alice) == raw
    batched = rollup_rows(app)
    assert batched, "nothing was rolled up"
    assert sum(row[8] for row in batched if row[1] == "q") == raw["totals"]["unique_visitors"]


def test_a_visitor_rolled_up_earlier_in_the_day_is_not_unique_again(app: Flask, alice: Account) -> None:
    insert_event(app, alice.id, DAY + timedelta(hours=1), visitor="regular")
    fold(app)
    insert_event(app, alice.id, DAY + timedelta(hours=2), visitor="regular")
    insert_event(app, alice.id, DAY + timedelta(hours=3), visitor="newcomer")
    for _ in range(2):
        totals = march(alice)["totals"]
        assert (totals["views"], totals["unique_visitors"]) == (3, 2)
        fold(app)


def test_pruning_deletes_only_rolled_up_events_past_retention(
    app: Flask, alice: Account, link_id: int
) -> None:
    now = datetime(2026, 4, 15, 12, tzinfo=UTC)
    old = insert_event(app, alice.id, now - timedelta(days=RETENTION_DAYS + 5), visitor="a")
    old_click = insert_event(
        app, alice.id, now - timedelta(days=RETENTION_DAYS + 1), CLICK, link_id, visitor="b"
    )
    recent = insert_event(app, alice.id, now - timedelta(days=RETENTION_DAYS - 1), visitor="c")
    assert fold(app) == 3
    not_rolled = insert_event(app, alice.id, now - timedelta(days=RETENTION_DAYS + 3), visitor="d")
    before = march(alice)
    assert before["totals"]["views"] == 3 and before["totals"]["clicks"] == 1
    rows = rollup_rows(app)

    with app.app_context():
        result = rollups.prune(RETENTION_DAYS, now=now)
        kept = set(db.session.scalars(select(AnalyticsEvent.id)))
    assert result["events"] == 2
    assert kept == {recent, not_rolled}
    assert old not in kept and old_click not in kept
    assert rollup_rows(app) == rows, "rollups are kept for good"
    assert march(alice) == before
    assert march(alice, tz="Asia/Tokyo") == stats(alice, from_="2026-03-01", to="2026-04-30", tz="Asia/Tokyo")

    fold(app)
    assert march(alice) == before


def test_pruning_forgets_old_salts_and_visitor_marks(app: Flask, alice: Account) -> None:
    now = datetime(2026, 4, 15, 12, tzinfo=UTC)
    old_day, yesterday, today = date(2026, 4, 10), date(2026, 4, 14), date(2026, 4, 15)
    with app.app_context():
        old_salt = visitors.daily_salt(old_day)
        kept_salts = {day: visitors.daily_salt(day) for day in (yesterday, today)}
    insert_event(app, alice.id, datetime(2026, 4, 10, 9, tzinfo=UTC), visitor="then")
    insert_event(app, alice.id, now - timedelta(hours=1), visitor="now")
    fold(app, now)

    with app.app_context():
        result = rollups.prune(RETENTION_DAYS, now=now)
        salts = {day: salt for day, salt in db.session.execute(select(StatsSalt.day, StatsSalt.salt))}
        marks = set(db.session.scalars(select(StatsVisitor.visitor_hash)))
        new_salt = visitors.daily_salt(old_day)
    assert result["salts"] == 1 and result["visitors"] == 1
    assert salts == kept_salts
    assert marks == {"now"}
    assert new_salt != old_salt, "a forgotten day's hashes must not be reproducible"
    assert count_events(app) == 2  # within retention


def test_the_scheduled_tasks_roll_up_and_prune(app: Flask, alice: Account) -> None:
    tasks = app.extensions["conexoos"].scheduler.tasks
    assert {"analytics-rollup", "analytics-prune"} <= set(tasks)
    assert tasks["analytics-rollup"].interval <= 60
    insert_event(app, alice.id, datetime.now(UTC) - timedelta(days=RETENTION_DAYS + 2), visitor="old")
    insert_event(app, alice.id, datetime.now(UTC) - timedelta(minutes=1), visitor="new")
    today = datetime.now(UTC).date()
    window = {
        "from_": (today - timedelta(days=60)).isoformat(),
        "to": (today + timedelta(days=1)).isoformat(),
    }
    before = stats(alice, **window)

    with app.app_context():
        tasks["analytics-rollup"].function()
        assert rollups.pending_count() == 0
        tasks["analytics-prune"].function()
    assert count_events(app) == 1
    assert stats(alice, **window) == before


def test_concurrent_roll_ups_never_count_twice(app: Flask, alice: Account, link_id: int) -> None:
    """The scheduler runs one roll-up per cluster; if two ever race, the loser rolls back."""
    _some_traffic(app, alice.id, link_id)
    raw = march(alice)
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def race() -> None:
        start.wait(5)
        try:
            fold(app)
        except (RuntimeError, SQLAlchemyError) as error:  # the documented outcome for the loser
            failures.append(error)

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    fold(app)
    assert march(alice) == raw
    with app.app_context():
        folded = db.session.scalar(
            select(func.sum(StatsRollup.events)).where(StatsRollup.dimension == "", StatsRollup.grain == "q")
        )
    assert folded == 12


def _dimension_rows(app: Flask, dimension: str, grain: str = "h") -> dict[str, int]:
    """``value -> events`` of the rollup rows of ``dimension`` at ``grain``."""
    with app.app_context():
        rows = db.session.execute(
            select(StatsRollup.value, StatsRollup.events).where(
                StatsRollup.dimension == dimension, StatsRollup.grain == grain
            )
        ).all()
    counted: dict[str, int] = {}
    for value, events in rows:
        assert value not in counted, f"two {grain} rows for {value!r}"
        counted[value] = events
    return counted


def test_values_differing_only_in_case_or_accents_are_separate_rows(app: Flask, alice: Account) -> None:
    """On MariaDB's default collation ``Promo`` after ``promo`` broke the unique key of later roll-ups."""
    hour = DAY + timedelta(hours=9)
    insert_event(app, alice.id, hour, utm_source="promo", referrer_host="ex.example")
    assert fold(app) == 1
    spellings = {"Promo": 1, "promo": 2, "Prómo": 3, "PROMO": 4}
    minute = 1
    for value, times in spellings.items():
        for _ in range(times):
            referrer = "EX.example" if value == "PROMO" else "ex.example"
            insert_event(
                app, alice.id, hour + timedelta(minutes=minute), utm_source=value, referrer_host=referrer
            )
            minute += 1
    insert_event(app, alice.id, hour + timedelta(minutes=minute), utm_source="promo ")  # trailing space

    assert fold(app) == 11
    assert _dimension_rows(app, "utm_source") == {"Promo": 1, "promo": 3, "Prómo": 3, "PROMO": 4, "promo ": 1}
    assert _dimension_rows(app, "utm_source", "d") == _dimension_rows(app, "utm_source")
    assert _dimension_rows(app, "referrer") == {"ex.example": 7, "EX.example": 4}
    report = march(alice)
    assert {item["value"]: item["count"] for item in report["top"]["utm_sources"]} == {
        "Promo": 1,
        "promo": 3,
        "Prómo": 3,
        "PROMO": 4,
        "promo ": 1,
    }
    insert_event(app, alice.id, hour + timedelta(minutes=40), utm_source="Prómo")
    assert fold(app) == 1  # the next roll-up still runs and adds to the right row
    assert _dimension_rows(app, "utm_source")["Prómo"] == 4


_POISON_TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER poison BEFORE INSERT ON stats_rollup WHEN NEW.value = 'poison' "
        "BEGIN SELECT RAISE(ABORT, 'poisoned value'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN IF NEW.value = 'poison' THEN "
        "RAISE EXCEPTION 'poisoned value' USING ERRCODE = '22000'; END IF; RETURN NEW; END $$ "
        "LANGUAGE plpgsql",
        "CREATE TRIGGER poison BEFORE INSERT ON stats_rollup FOR EACH ROW EXECUTE FUNCTION poison()",
    ],
    "mysql": [
        "CREATE TRIGGER poison BEFORE INSERT ON stats_rollup FOR EACH ROW BEGIN IF NEW.value = 'poison' "
        "THEN SIGNAL SQLSTATE '22000' SET MESSAGE_TEXT = 'poisoned value', MYSQL_ERRNO = 1406; END IF; END"
    ],
}


def _poison_rollups(app: Flask) -> None:
    """Make this database refuse any rollup row whose value is ``poison``, as a real data error would."""
    with app.app_context():
        for statement in _POISON_TRIGGER[db.engine.dialect.name]:
            db.session.execute(text(statement))
        db.session.commit()


def test_an_event_the_database_refuses_is_quarantined_and_the_rest_rolled_up(
    app: Flask, alice: Account, caplog: pytest.LogCaptureFixture
) -> None:
    _poison_rollups(app)
    good = [insert_event(app, alice.id, DAY + timedelta(minutes=n), visitor=f"v{n}") for n in range(5)]
    bad = insert_event(app, alice.id, DAY + timedelta(minutes=5), utm_source="poison")
    good += [insert_event(app, alice.id, DAY + timedelta(minutes=n), visitor=f"v{n}") for n in range(6, 9)]

    with caplog.at_level("ERROR", logger="conexoos.analytics"):
        assert fold(app, batch_size=100) == 8
    assert pending(app) == []
    assert march(alice)["totals"]["views"] == 8
    with app.app_context():
        held = db.session.execute(select(EventQuarantine)).scalars().all()
        assert [(row.event_id, row.owner_id) for row in held] == [(bad, alice.id)]
        assert json.loads(held[0].data)["utm_source"] == "poison"
        assert "poisoned value" in held[0].error
        assert rollups.quarantined_count() == 1
    messages = [record.getMessage() for record in caplog.records]
    assert any("failed" in message for message in messages)
    assert any("quarantined" in message and "1 event in quarantine" in message for message in messages)
    assert any(record.exc_info for record in caplog.records), "the cause is logged with its traceback"

    later = insert_event(app, alice.id, DAY + timedelta(hours=2))
    assert fold(app) == 1  # later batches are not blocked
    assert later not in pending(app) and pending(app) == []
    assert march(alice)["totals"]["views"] == 9


def test_a_run_that_refuses_everything_stops_instead_of_quarantining_all(
    app: Flask, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When every event fails, the cause is not the events: the run stops and leaves them pending."""
    monkeypatch.setattr(rollups, "MAX_QUARANTINED_PER_RUN", 2)
    _poison_rollups(app)
    ids = [insert_event(app, alice.id, DAY + timedelta(minutes=n), utm_source="poison") for n in range(5)]
    with pytest.raises(RuntimeError, match="more than 2 events refused"):
        fold(app)
    assert pending(app) == ids[2:]  # the two quarantined ones are set aside, the rest still pending
    with app.app_context():
        assert rollups.quarantined_count() == 2
    assert march(alice)["totals"]["views"] == 3  # still pending, still counted live


def test_a_roll_up_beaten_to_its_batch_by_another_is_no_failure(
    app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Two roll-ups released together (two hosts): the one that loses the race logs INFO, not ERROR."""

    def beaten() -> int:
        raise rollups.ConcurrentRollUp("another roll-up folded event 7 first")

    monkeypatch.setattr(rollups, "roll_up", beaten)
    scheduler = app.extensions["conexoos"].scheduler
    scheduler.run_pending(now=0.0)
    with caplog.at_level(logging.INFO):
        assert "analytics-rollup" in scheduler.run_pending(now=15.0)
    assert scheduler.tasks["analytics-rollup"].failures == 0
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert any("another roll-up folded this batch first" in record.getMessage() for record in caplog.records)
