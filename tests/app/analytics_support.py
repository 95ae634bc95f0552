"""What the analytics tests share: their configuration, visitors, a fixed clock, stored events and reports.

The statistics tests use fixed dates (time-zone and DST boundaries of 2026), so the free plan's history limit,
a plan rule tested on its own, is lifted here; and the country is read from ``CF-IPCountry``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from conexoos.app.controllers import analytics, event_buffer, rollups
from conexoos.app.models.persistent import AnalyticsEvent
from conexoos.app.models.persistent.event import CLICK, VIEW
from conexoos.framework import db
from conexoos.framework.config import deep_merge
from tests.conftest import AppFactory

from .conftest import BROWSER_UA, RATE_LIMITS_OFF, Account

COUNTRY_HEADER = "CF-IPCountry"
UNLIMITED_HISTORY = {"gratis": {"NAME": "Gratis", "MAX_LINKS": 10, "MAX_PRODUCTS": 3, "HISTORY_DAYS": None}}
ANALYTICS_OVERRIDES = deep_merge(
    RATE_LIMITS_OFF, {"APP": {"PLANS": UNLIMITED_HISTORY, "ANALYTICS": {"COUNTRY_HEADER": COUNTRY_HEADER}}}
)
IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
FIREFOX_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
RECORDED_AT = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
"""When the fixed clock records events: a day far from any time-zone or DST boundary."""
RECORDED_DAY = RECORDED_AT.date().isoformat()


def analytics_app(make_app: AppFactory, **extra: Any) -> Flask:
    """The product configured for the analytics tests (plus ``extra`` overrides)."""
    return make_app(overrides=deep_merge(ANALYTICS_OVERRIDES, extra))


@dataclass(frozen=True)
class Visitor:
    """Someone on the internet: an address and a browser."""

    ip: str = "203.0.113.7"
    user_agent: str = BROWSER_UA

    def get(self, client: FlaskClient, path: str, headers: dict[str, str] | None = None) -> TestResponse:
        """GET ``path`` from this visitor's address with this visitor's user-agent."""
        return client.get(
            path,
            headers={"User-Agent": self.user_agent, **(headers or {})},
            environ_overrides={"REMOTE_ADDR": self.ip},
        )

    def view(
        self, client: FlaskClient, username: str, query: str = "", headers: dict[str, str] | None = None
    ) -> None:
        """Open ``username``'s public page (``query``: e.g. ``?utm_source=...``)."""
        response = self.get(client, f"/{username}{query}", headers)
        assert response.status_code == 200, response.status_code

    def click(
        self, client: FlaskClient, link_id: int, query: str = "", headers: dict[str, str] | None = None
    ) -> None:
        """Follow ``/go/<link_id>``; the redirect happens whether or not the click is counted."""
        response = self.get(client, f"/go/{link_id}{query}", headers)
        assert response.status_code == 302, response.status_code


class Clock:
    """The time the analytics controller stamps on new events; tests move it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def freeze_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Record events at :data:`RECORDED_AT` (so a test near midnight cannot straddle two days)."""
    fixed = Clock(RECORDED_AT)
    monkeypatch.setattr(analytics, "utcnow", fixed)
    return fixed


def insert_event(
    app: Flask,
    owner_id: int,
    at: datetime,
    kind: str = VIEW,
    link_id: int | None = None,
    visitor: str = "visitor-1",
    **fields: str,
) -> int:
    """Store one raw event as the recorder would; returns its id."""
    assert at.tzinfo is not None
    if kind == CLICK:
        assert link_id is not None
    with app.app_context():
        event = AnalyticsEvent(
            owner_id=owner_id, link_id=link_id, kind=kind, occurred_at=at, visitor_hash=visitor, **fields
        )
        db.session.add(event)
        db.session.commit()
        return int(event.id)


def flush_events(app: Flask) -> int:
    """Run the write buffer's flush to its end, as the task ``analytics-buffer-flush`` does: the views and
    clicks recorded so far are then in ``analytics_event``. How many it read from the queue."""
    total = 0
    with app.app_context():
        while moved := event_buffer.flush():
            total += moved
        assert event_buffer.pending() == 0
    return total


def count_events(app: Flask) -> int:
    """How many raw events are stored (after flushing the write buffer)."""
    flush_events(app)
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(AnalyticsEvent)) or 0)


def stats(account: Account, path: str = "/api/stats", **params: str | int) -> dict[str, Any]:
    """``GET /api/stats`` (200 expected) with ``params``; ``from_`` stands for ``from``. The write buffer is
    flushed first (by :func:`stats_response`), as its task would have done by then."""
    response = stats_response(account, path, **params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def stats_response(account: Account, path: str = "/api/stats", **params: str | int) -> TestResponse:
    """The raw response of ``GET path`` with ``params`` (``from_`` stands for ``from``), after flushing the
    write buffer as its task would have."""
    flush_events(account.client.application)
    query = {("from" if name == "from_" else name): str(value) for name, value in params.items()}
    return account.api("GET", path, query_string=query)


def day_stats(account: Account, day: str = RECORDED_DAY, **params: str | int) -> dict[str, Any]:
    """The report of one day."""
    return stats(account, from_=day, to=day, **params)


def roll_up(app: Flask, now: datetime | None = None) -> int:
    """Flush the write buffer, then fold the pending events that occurred by ``now`` (default: all) into the
    rollups, as the tasks do."""
    flush_events(app)
    with app.app_context():
        return rollups.roll_up(now)
