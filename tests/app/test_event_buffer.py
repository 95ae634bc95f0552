"""The analytics write buffer in the product (controllers/event_buffer.py), on SQLite, PostgreSQL and
MariaDB: a click is queued, not inserted, by its request; the flush inserts it once even when it runs
twice over the same batch (a crash between insert and acknowledgement); a deleted owner's events do not
block the queue; a visitor recorded without the day's salt is salted by the flush."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from conexoos.app.controllers import event_buffer, rollups
from conexoos.app.controllers.visitors import deferred_key, hash_of_deferred
from conexoos.app.models.persistent import AnalyticsEvent, User
from conexoos.app.models.persistent.base import transaction
from conexoos.framework import db
from conexoos.framework.write_buffer import FileQueue, WriteQueue

from .analytics_support import (
    RECORDED_AT,
    Clock,
    Visitor,
    analytics_app,
    day_stats,
    flush_events,
    freeze_clock,
)
from .conftest import Account, sign_up

pytestmark = pytest.mark.database_matrix


@pytest.fixture
def app(make_app: Any) -> Flask:
    return analytics_app(make_app)


@pytest.fixture
def alice(app: Flask) -> Account:
    return sign_up(app, "alice")


@pytest.fixture
def link_id(alice: Account) -> int:
    return int(alice.add_link("Shop", "https://shop.example/")["id"])


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    yield freeze_clock(monkeypatch)


def stored_events(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(AnalyticsEvent)) or 0)


def queue_of(app: Flask) -> WriteQueue:
    with app.app_context():
        return event_buffer.event_queue()


def test_a_click_is_queued_by_its_request_and_inserted_by_the_flush(
    app: Flask, alice: Account, link_id: int, clock: Clock
) -> None:
    client = app.test_client()
    Visitor().view(client, "alice")
    Visitor().click(client, link_id)
    assert stored_events(app) == 0  # the requests wrote nothing to the database
    assert queue_of(app).pending() == 2
    assert flush_events(app) == 2
    with app.app_context():
        events = db.session.scalars(select(AnalyticsEvent).order_by(AnalyticsEvent.id)).all()
        assert [(e.kind, e.link_id, e.occurred_at) for e in events] == [
            ("view", None, RECORDED_AT),
            ("click", link_id, RECORDED_AT),
        ]
        assert len({e.event_id for e in events}) == 2 and all(len(e.visitor_hash) == 32 for e in events)
    assert flush_events(app) == 0 and stored_events(app) == 2


def test_a_flush_that_crashed_between_insert_and_ack_counts_each_event_once(
    app: Flask, alice: Account, link_id: int, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(5):
        Visitor(ip=f"198.51.100.{number}").click(app.test_client(), link_id)
    queue = queue_of(app)

    def crash(batch: object) -> None:
        raise RuntimeError("the flush died after its insert, before acknowledging the queue")

    monkeypatch.setattr(queue, "ack", crash)
    with app.app_context(), pytest.raises(RuntimeError, match="died after its insert"):
        event_buffer.flush()
    assert stored_events(app) == 5 and queue.pending() == 5  # inserted, still queued
    monkeypatch.undo()
    freeze_clock(monkeypatch)
    assert flush_events(app) == 5  # the same batch read again...
    assert stored_events(app) == 5  # ...and not inserted twice


def test_the_same_event_stored_twice_is_one_row(app: Flask, alice: Account, clock: Clock) -> None:
    Visitor().view(app.test_client(), "alice")
    queue = queue_of(app)
    batch = queue.read(100)
    with app.app_context():
        event_buffer.store(batch.payloads, 100)
        event_buffer.store(batch.payloads + batch.payloads, 1)
    assert stored_events(app) == 1


def test_the_events_of_a_deleted_owner_do_not_block_the_queue(
    app: Flask, alice: Account, link_id: int, clock: Clock
) -> None:
    bob = sign_up(app, "bob")
    Visitor().view(app.test_client(), "alice")
    Visitor().view(app.test_client(), "bob")
    with app.app_context(), transaction():
        db.session.delete(db.session.get(User, alice.id))
    assert flush_events(app) == 2
    with app.app_context():
        assert db.session.scalars(select(AnalyticsEvent.owner_id)).all() == [bob.id]


def test_a_visitor_recorded_without_the_salt_is_hashed_by_the_flush(app: Flask, alice: Account) -> None:
    key = deferred_key("192.0.2.9", "Firefox")
    with app.app_context():
        event_buffer.enqueue(
            {
                "event_id": "00000000-0000-4000-8000-000000000001",
                **{"owner_id": alice.id, "link_id": None, "kind": "view", "occurred_at": RECORDED_AT},
                **{"referrer_host": "", "utm_source": "", "utm_medium": "", "utm_campaign": ""},
                **{"device": "desktop", "os": "", "browser": "", "country": "", "visitor_hash": ""},
                "visitor_key": key,
            }
        )
    flush_events(app)
    with app.app_context():
        stored = db.session.scalars(select(AnalyticsEvent.visitor_hash)).one()
        assert stored == hash_of_deferred(key, RECORDED_AT.date()) and len(stored) == 32
        assert "192.0.2.9" not in stored


IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
SPIDER_UA = "Mozilla/5.0 (compatible; StatusCake)"
"""A monitor ua-parser knows as a "Spider" device, which the bot pattern alone does not catch."""


def test_the_flush_classifies_the_queued_user_agent_and_drops_what_is_a_bot(
    app: Flask, alice: Account
) -> None:
    """A view is queued with its User-Agent (the request runs no ua-parser); the flush stores its device,
    system and browser, and leaves out a bot only ua-parser recognises. A payload queued by an earlier
    release (classified already, no User-Agent) is stored as it is."""
    Visitor(user_agent=IPHONE_UA).view(app.test_client(), "alice")
    Visitor(ip="198.51.100.2", user_agent=SPIDER_UA).view(app.test_client(), "alice")
    with app.app_context():
        assert event_buffer.pending() == 2  # the spider looks like a browser to the request
        event_buffer.enqueue(
            {
                "event_id": "00000000-0000-4000-8000-000000000002",
                **{"owner_id": alice.id, "link_id": None, "kind": "view", "occurred_at": RECORDED_AT},
                **{"referrer_host": "", "utm_source": "", "utm_medium": "", "utm_campaign": ""},
                **{"device": "tablet", "os": "iOS", "browser": "Safari", "country": "", "visitor_hash": ""},
            }
        )
    assert flush_events(app) == 3
    with app.app_context():
        columns = (AnalyticsEvent.device, AnalyticsEvent.os, AnalyticsEvent.browser)
        stored = db.session.execute(select(*columns).order_by(AnalyticsEvent.occurred_at)).all()
    assert sorted(tuple(row) for row in stored) == [
        ("mobile", "iOS", "Mobile Safari"),
        ("tablet", "iOS", "Safari"),
    ]


def test_a_click_no_queue_can_keep_is_a_503_not_a_500(app: Flask, alice: Account, link_id: int) -> None:
    queue = queue_of(app)
    assert isinstance(queue, FileQueue)
    queue.folder.parent.mkdir(parents=True, exist_ok=True)
    queue.folder.write_text("a file where the queue's folder should be", encoding="utf-8")
    response = Visitor().get(app.test_client(), f"/go/{link_id}")
    assert response.status_code == 503
    assert "could not be recorded" in response.get_data(as_text=True)


def test_an_event_flushed_after_its_bucket_was_rolled_up_is_still_counted_once(
    app: Flask, alice: Account, clock: Clock
) -> None:
    Visitor(ip="198.51.100.1").view(app.test_client(), "alice")
    flush_events(app)
    with app.app_context():
        assert rollups.roll_up() == 1
    Visitor(ip="198.51.100.2").view(app.test_client(), "alice")  # same quarter-hour, still in the buffer
    with app.app_context():
        assert rollups.roll_up() == 0  # nothing pending in the table yet: nothing skipped either
    flush_events(app)  # arrives late, with its own occurred_at
    with app.app_context():
        assert rollups.roll_up() == 1
        assert rollups.roll_up() == 0
    totals = day_stats(alice)["totals"]
    assert (totals["views"], totals["unique_visitors"]) == (2, 2)
