"""Folding raw events into the rollups (see models.persistent.stats), and pruning what is no longer needed.

Run by a framework task (once per cluster). Each batch is one transaction: rollups, first-of-day
visitors and the watermark move together, so a crash never counts an event twice or loses one. An
event the database refuses is quarantined (table ``event_quarantine``) with its error, never dropped.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, select, tuple_, update
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError

from conexoos.app.models.persistent import AnalyticsEvent, StatsRollup, StatsVisitor, StatsWatermark
from conexoos.app.models.persistent.base import transaction, utcnow
from conexoos.app.models.persistent.event import EventQuarantine
from conexoos.app.models.persistent.stats import (
    BUCKET_SECONDS,
    DAY,
    DAY_BUCKETS,
    HOUR,
    HOUR_BUCKETS,
    QUARTER,
    TOTAL,
)
from conexoos.framework import db

from .visitors import forget_salts_before

log = logging.getLogger("conexoos.analytics")
BATCH_SIZE = 5000
MAX_QUARANTINED_PER_RUN = 100
"""Past this many quarantined events in one run the roll-up stops (raising) instead of setting aside more."""
SETTLE = timedelta(seconds=5)
"""Events younger than this are left for the next run, so an insert still committing is not skipped."""
RollupKey = tuple[int, str, int, str, int, str, str]
"""(owner_id, grain, bucket, kind, link_id, dimension, value)."""


@dataclass
class Counts:
    """Events and first-of-day visitors for one rollup key."""

    events: int = 0
    uniques: int = 0


@dataclass
class Aggregate:
    """Rollup counts computed from a set of raw events."""

    counts: dict[RollupKey, Counts] = field(default_factory=lambda: defaultdict(Counts))
    new_visitors: set[tuple[int, date, str]] = field(default_factory=set)


def bucket_of(moment: datetime) -> int:
    """The quarter-hour bucket of an aware datetime."""
    return int(moment.timestamp()) // BUCKET_SECONDS


def dimension_values(event: Any) -> Iterable[tuple[str, str]]:
    """``event`` is an AnalyticsEvent or a row of its table."""
    # The (dimension, value) pairs an event is counted under; empty values are skipped.
    pairs = (
        ("referrer", event.referrer_host),
        ("utm_source", event.utm_source),
        ("utm_medium", event.utm_medium),
        ("utm_campaign", event.utm_campaign),
        ("device", event.device),
        ("os", event.os),
        ("browser", event.browser),
        ("country", event.country),
    )
    return [(name, value) for name, value in pairs if value]


def aggregate(events: Sequence[Any], seen: set[tuple[int, date, str]]) -> Aggregate:
    """Count ``events``; a visitor not in ``seen`` counts as unique once per owner and UTC day."""
    result = Aggregate()
    counts = result.counts
    for event in events:
        owner, kind, link_id = event.owner_id, event.kind, event.link_id or 0
        quarter = bucket_of(event.occurred_at)
        hour = quarter - quarter % HOUR_BUCKETS
        day = quarter - quarter % DAY_BUCKETS
        visitor = (owner, event.occurred_at.date(), event.visitor_hash)
        unique = bool(event.visitor_hash) and visitor not in seen and visitor not in result.new_visitors
        if unique:
            result.new_visitors.add(visitor)
        for grain, bucket in ((QUARTER, quarter), (HOUR, hour)):
            total = counts[(owner, grain, bucket, kind, link_id, TOTAL, "")]
            total.events += 1
            total.uniques += unique
        for name, value in dimension_values(event):
            counts[(owner, HOUR, hour, kind, link_id, name, value)].events += 1
            counts[(owner, DAY, day, kind, link_id, name, value)].events += 1
    return result


class ConcurrentRollUp(RuntimeError):
    """Another roll-up moved the watermark first; this one's batch was rolled back."""


def roll_up(now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Fold every settled event past the watermark into the rollups; returns how many were folded.

    A batch that fails is folded again in halves, so one event the database refuses is isolated,
    quarantined (see :func:`quarantine`) and passed over: it never blocks the events after it.
    """
    total, refused = 0, [0]
    while True:
        after, events = _next_batch((now or utcnow()) - SETTLE, batch_size)
        if not events:
            return total
        total += _fold_or_isolate(events, after, refused, first_try=True)
        if len(events) < batch_size:
            return total


def _next_batch(cutoff: datetime, batch_size: int) -> tuple[int, list[Any]]:
    """The watermark, and the settled events after it in id order (plain rows: a batch is only read)."""
    with transaction():
        after = _watermark().last_event_id
    table = AnalyticsEvent.__table__
    query = select(table).where(table.c.id > after).order_by(table.c.id).limit(batch_size)
    events = _settled_prefix(db.session.execute(query).all(), cutoff)
    db.session.rollback()  # end the read; each fold is its own transaction
    return after, events


def _fold_or_isolate(events: Sequence[Any], after: int, refused: list[int], first_try: bool = False) -> int:
    """Fold ``events`` (the ids after ``after``); on a data error, fold halves; returns how many folded."""
    try:
        _fold(events, after)
        return len(events)
    except (ConcurrentRollUp, OperationalError, InterfaceError, ProgrammingError):
        raise  # a race, an unreachable database or a schema behind the code: try again later
    except Exception as error:  # anything else is this data refused: find the event(s) and set them aside
        if first_try:
            log.exception(
                "analytics roll-up: batch of %d events (ids %d..%d) failed; isolating the cause",
                len(events),
                events[0].id,
                events[-1].id,
            )
        if len(events) == 1:
            _refuse_one_more(refused, error)
            quarantine(events[0], error, after)
            return 0
        middle = len(events) // 2
        folded = _fold_or_isolate(events[:middle], after, refused)
        return folded + _fold_or_isolate(events[middle:], events[middle - 1].id, refused)


def _refuse_one_more(refused: list[int], error: Exception) -> None:
    # Many refusals in one run point at the code or the database, not at the events: stop, keep them.
    refused[0] += 1
    if refused[0] > MAX_QUARANTINED_PER_RUN:
        raise RuntimeError(
            f"analytics roll-up stopped: more than {MAX_QUARANTINED_PER_RUN} events refused in one run; "
            "the cause is probably not the events (see the logged errors)"
        ) from error


def _fold(events: Sequence[Any], after: int) -> None:
    """Add ``events`` to the rollups and move the watermark past them, in one transaction."""
    with transaction():
        # The watermark first: a concurrent roll-up waits on its row here, then finds it moved.
        _move_watermark(after, events[-1].id)
        _store(aggregate(events, known_visitors(events)))


def _move_watermark(after: int, to: int) -> None:
    moved = db.session.execute(
        update(StatsWatermark)
        .where(StatsWatermark.id == 1, StatsWatermark.last_event_id == after)
        .values(last_event_id=to)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise ConcurrentRollUp("another roll-up moved the watermark concurrently; this batch is rolled back")


def quarantine(event: Any, error: BaseException, after: int) -> None:
    """Copy ``event`` with ``error`` into ``event_quarantine`` and move the watermark past it."""
    data = {name: _json_value(value) for name, value in event._mapping.items()}
    with transaction():
        _move_watermark(after, event.id)
        db.session.add(
            EventQuarantine(
                event_id=event.id,
                owner_id=event.owner_id,
                data=json.dumps(data, sort_keys=True),
                error=f"{type(error).__name__}: {error}"[:4000],
            )
        )
    log.error(
        "analytics roll-up: event %d quarantined (%s); %d events in quarantine "
        "(table event_quarantine, `conexoos analytics quarantine`)",
        event.id,
        type(error).__name__,
        quarantined_count(),
    )


def quarantined_count() -> int:
    """How many events the roll-up has set aside."""
    return int(db.session.scalar(select(func.count()).select_from(EventQuarantine)) or 0)


def quarantined(limit: int) -> list[EventQuarantine]:
    """The ``limit`` most recently quarantined events."""
    query = select(EventQuarantine).order_by(EventQuarantine.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _settled_prefix(events: Sequence[Any], cutoff: datetime) -> list[Any]:
    # Stop at the first unsettled event: taking later ids past it could skip it for good.
    prefix = []
    for event in events:
        if event.occurred_at > cutoff:
            break
        prefix.append(event)
    return prefix


def watermark_id() -> int:
    """The id of the last event folded into the rollups."""
    return int(db.session.scalar(select(StatsWatermark.last_event_id).where(StatsWatermark.id == 1)) or 0)


def _watermark() -> StatsWatermark:
    watermark = db.session.get(StatsWatermark, 1)
    if watermark is None:
        watermark = StatsWatermark(id=1, last_event_id=0)
        db.session.add(watermark)
        db.session.flush()
    return watermark


def known_visitors(events: Sequence[Any]) -> set[tuple[int, date, str]]:
    """The (owner, day, hash) triples of ``events`` already counted as unique."""
    wanted = {(e.owner_id, e.occurred_at.date(), e.visitor_hash) for e in events if e.visitor_hash}
    found: set[tuple[int, date, str]] = set()
    candidates = list(wanted)
    for start in range(0, len(candidates), 500):
        chunk = candidates[start : start + 500]
        query = select(StatsVisitor.owner_id, StatsVisitor.day, StatsVisitor.visitor_hash).where(
            tuple_(StatsVisitor.owner_id, StatsVisitor.day, StatsVisitor.visitor_hash).in_(chunk)
        )
        found.update((row[0], row[1], row[2]) for row in db.session.execute(query))
    return found


def _store(result: Aggregate) -> None:
    """Add the counts with bulk statements (no ORM objects: a batch touches thousands of rows)."""
    existing = _existing_ids(result.counts.keys())
    updates = [
        {"row_id": existing[key], "add_events": counts.events, "add_uniques": counts.uniques}
        for key, counts in result.counts.items()
        if key in existing
    ]
    inserts = [
        {
            "owner_id": key[0],
            "grain": key[1],
            "bucket": key[2],
            "kind": key[3],
            "link_id": key[4],
            "dimension": key[5],
            "value": key[6],
            "events": counts.events,
            "uniques": counts.uniques,
        }
        for key, counts in result.counts.items()
        if key not in existing
    ]
    if updates:
        statement = (
            update(StatsRollup.__table__)
            .where(StatsRollup.__table__.c.id == bindparam("row_id"))
            .values(
                events=StatsRollup.__table__.c.events + bindparam("add_events"),
                uniques=StatsRollup.__table__.c.uniques + bindparam("add_uniques"),
            )
        )
        db.session.execute(statement, updates)
    if inserts:
        db.session.execute(insert(StatsRollup.__table__), inserts)
    if result.new_visitors:
        db.session.execute(
            insert(StatsVisitor.__table__),
            [
                {"owner_id": owner, "day": day, "visitor_hash": digest}
                for owner, day, digest in result.new_visitors
            ],
        )


def _existing_ids(keys: Iterable[RollupKey]) -> dict[RollupKey, int]:
    """Ids of the rollup rows the batch adds to: only the (owner, bucket) pairs it touches."""
    by_owner: dict[int, set[int]] = defaultdict(set)
    for owner_id, _grain, bucket, *_ in keys:
        by_owner[owner_id].add(bucket)
    table = StatsRollup.__table__.c
    columns = (
        table.owner_id,
        table.grain,
        table.bucket,
        table.kind,
        table.link_id,
        table.dimension,
        table.value,
    )
    rows: dict[RollupKey, int] = {}
    for owner_id, buckets in by_owner.items():
        ordered = sorted(buckets)
        for start in range(0, len(ordered), 500):
            query = select(table.id, *columns).where(
                and_(table.owner_id == owner_id, table.bucket.in_(ordered[start : start + 500]))
            )
            for row in db.session.execute(query):
                rows[
                    (row.owner_id, row.grain, row.bucket, row.kind, row.link_id, row.dimension, row.value)
                ] = row.id
    return rows


def prune(retention_days: int, now: datetime | None = None) -> dict[str, int]:
    """Delete rolled-up raw events older than ``retention_days``, old visitor marks and old salts."""
    now = now or utcnow()
    last_folded = watermark_id()
    with transaction():
        events = db.session.execute(
            delete(AnalyticsEvent).where(
                AnalyticsEvent.occurred_at < now - timedelta(days=retention_days),
                AnalyticsEvent.id <= last_folded,
            )
        )
        visitors = db.session.execute(
            delete(StatsVisitor).where(StatsVisitor.day < now.date() - timedelta(days=2))
        )
    salts = forget_salts_before(now.date() - timedelta(days=1))
    deleted_events: int = getattr(events, "rowcount", 0) or 0
    deleted_visitors: int = getattr(visitors, "rowcount", 0) or 0
    return {"events": deleted_events, "visitors": deleted_visitors, "salts": salts}
