"""``DATABASE.readonly``: a second connection (a read replica) read by ``/api/stats`` and ``/api/stats.csv``.

The "replica" here is another product database holding other numbers for the same account and link ids,
so a report tells which database it was read from. Nothing is written there.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select

from conexoos.app.models.persistent import AnalyticsEvent
from tests.conftest import AppFactory
from tests.support.database_pool import DatabasePool

from .analytics_support import (
    ANALYTICS_OVERRIDES,
    RECORDED_DAY,
    Clock,
    Visitor,
    analytics_app,
    day_stats,
    flush_events,
    freeze_clock,
    roll_up,
)
from .conftest import Account, sign_up

REPLICA_CLICKS, PRIMARY_CLICKS = 3, 1


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """New events are stamped with a fixed time."""
    return freeze_clock(monkeypatch)


def database_url(app: Flask) -> str:
    """The URL of ``app``'s default connection, password included."""
    url = app.extensions["conexoos"].settings.default_database.url
    return str(url.render_as_string(hide_password=False))


def stored_events(url: str) -> int:
    """Raw events in the database at ``url``, counted from outside the apps."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(AnalyticsEvent.__table__)) or 0)
    finally:
        engine.dispose()


def account_with_clicks(app: Flask, clicks: int) -> tuple[Account, int]:
    """alice, her link, and ``clicks`` visitor clicks on it (the first rolled up, the rest pending)."""
    alice = sign_up(app, "alice")
    link = int(alice.add_link("Shop", "https://shop.example/")["id"])
    for number in range(clicks):
        Visitor(ip=f"203.0.113.{number + 1}").click(app.test_client(), link)
        flush_events(app)  # from the write buffer into the events table
        if number == 0:
            roll_up(app)  # the report must read rollups and pending events from the same place
    return alice, link


@pytest.mark.database_matrix
def test_stats_are_read_from_the_readonly_connection_and_nothing_is_written_there(
    make_app: AppFactory, clock: Clock, database_pool: DatabasePool | None, tmp_path: Path
) -> None:
    # A database of its own: another one from the server's pool, or another SQLite file.
    own = None if database_pool is not None else f"sqlite:///{tmp_path / 'replica.db'}"
    replica = make_app(overrides=ANALYTICS_OVERRIDES, database_url=own)
    _, replica_link = account_with_clicks(replica, REPLICA_CLICKS)
    replica_url = database_url(replica)
    app = analytics_app(make_app, DATABASE={"readonly": {"url": replica_url, "readonly": True}})
    alice, link = account_with_clicks(app, PRIMARY_CLICKS)
    assert link == replica_link  # the same ids in both databases, with other numbers

    report = day_stats(alice)
    assert report["totals"]["clicks"] == REPLICA_CLICKS
    assert report["totals"]["unique_visitors"] == REPLICA_CLICKS
    assert [(row["id"], row["clicks"]) for row in report["links"]] == [(link, REPLICA_CLICKS)]
    rows = list(
        csv.reader(io.StringIO(alice.api("GET", "/api/stats.csv", query_string=day(RECORDED_DAY)).text))
    )
    assert ["totals", "", "clicks", str(REPLICA_CLICKS)] in rows

    Visitor(ip="198.51.100.9").click(app.test_client(), link)
    roll_up(app)
    assert stored_events(replica_url) == REPLICA_CLICKS  # clicks and the roll-up wrote to the primary only
    assert stored_events(database_url(app)) == PRIMARY_CLICKS + 1
    assert day_stats(alice)["totals"]["clicks"] == REPLICA_CLICKS


@pytest.mark.database_matrix
def test_without_a_readonly_connection_stats_are_read_from_the_default_one(
    make_app: AppFactory, clock: Clock
) -> None:
    app = analytics_app(make_app)
    alice, _ = account_with_clicks(app, PRIMARY_CLICKS)
    assert day_stats(alice)["totals"]["clicks"] == PRIMARY_CLICKS


def day(date: str) -> dict[str, str]:
    """The query string of a one-day report."""
    return {"from": date, "to": date}
