"""What the fault tests share: the product app, a creator with a link, exact counts of what was folded."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import false, func, select

from conexoos.app.controllers import rollups
from conexoos.app.models.persistent import AnalyticsEvent, StatsRollup
from conexoos.app.models.persistent.stats import QUARTER, TOTAL
from conexoos.framework import db
from conexoos.framework.config import deep_merge
from tests.app.conftest import QUIET, RATE_LIMITS_OFF, Account, sign_up
from tests.conftest import AppFactory


def product_app(make_app: AppFactory, **extra: Any) -> Flask:
    """The Conexoos product, rate limits off, quiet access log, plus ``extra`` overrides."""
    return make_app(overrides=deep_merge(deep_merge(RATE_LIMITS_OFF, QUIET), extra))


def creator_with_link(app: Flask) -> tuple[Account, int]:
    """A signed-up creator and the id of one of their links."""
    account = sign_up(app, "alice")
    return account, int(account.add_link("Shop", "https://shop.example/")["id"])


def folded(app: Flask, kind: str | None = None) -> int:
    """How many events the quarter-hour totals hold (of ``kind`` when given): each event counts once there."""
    query = select(func.coalesce(func.sum(StatsRollup.events), 0)).where(
        StatsRollup.grain == QUARTER, StatsRollup.dimension == TOTAL
    )
    if kind is not None:
        query = query.where(StatsRollup.kind == kind)
    with app.app_context():
        return int(db.session.scalar(query) or 0)


def stored(app: Flask) -> tuple[int, int]:
    """(all raw events, pending raw events)."""
    with app.app_context():
        total = int(db.session.scalar(select(func.count()).select_from(AnalyticsEvent)) or 0)
        pending = int(db.session.scalar(select(func.count()).where(AnalyticsEvent.rolled_up == false())) or 0)
        return total, pending


def roll_up_once(app: Flask) -> int:
    """One roll-up, as the task runs it."""
    with app.app_context():
        return rollups.roll_up()
