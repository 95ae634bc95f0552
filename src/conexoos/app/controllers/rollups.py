"""Folding raw events into the rollups (see models.persistent.stats), and pruning what is no longer needed.

The events table is the roll-up's queue. Every raw event is stored with ``rolled_up`` false (pending);
the roll-up reads pending events, and in ONE transaction per batch it adds them to the rollups and flips
their ``rolled_up`` to true, naming each event by its id. So:

- an event whose transaction commits late (a stalled link, a lock held for minutes) is not visible to a
  roll-up yet; it is simply still pending, and the first roll-up after its commit folds it. No ordering
  of ids or clocks is assumed, so there is no settle window to wait and nothing to skip;
- the flag and the counts move in the same transaction: a crash, a lost connection or a rolled-back batch
  leaves both as they were, so an event is counted exactly once;
- two roll-ups never fold the same event: each batch first updates the single ``stats_watermark`` row (a
  row lock on PostgreSQL and MariaDB, the write lock on SQLite), which serialises folds, then flips the
  flags of exactly the ids it read with ``WHERE rolled_up = false``; if fewer rows changed than it read,
  another roll-up got there first and the batch is rolled back (:class:`ConcurrentRollUp`).

Why not ``FOR UPDATE SKIP LOCKED``: parallel folds would then race on inserting the same new rollup and
first-of-day visitor rows (unique keys), and the events are never locked by a read here anyway, so a
pending row held by an open transaction cannot block a roll-up on any of the three databases. Why not a
commit-time sequence or ``pg_snapshot_xmin``: neither exists on all three databases.

The same flag drives the rest: ``/api/stats`` adds an owner's pending events to the rollups
(``ix_analytics_event_owner_pending``: owner_id, rolled_up, id), the roll-up takes its batches from
``ix_analytics_event_pending`` (rolled_up, id), and the prune deletes only rolled-up events. An event the
database refuses is quarantined (table ``event_quarantine``) with its error and marked rolled up in the
same transaction, never dropped. ``stats_watermark.last_event_id`` remains as the lock row's value: the
highest id folded so far, for operators (events below it may still be pending after a late commit).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, false, func, insert, select, true, tuple_, update
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

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
from conexoos.framework.wording import counted

from .visitors import forget_salts_before

log = logging.getLogger("conexoos.analytics")
BATCH_SIZE = 5000
MAX_QUARANTINED_PER_RUN = 100
"""Past this many quarantined events in one run the roll-up stops (raising) instead of setting aside more."""
LOCK_WAIT_MS = 5000
"""How long a fold waits for a lock: SQLite's write lock (the app's default is 30 s), the lock row on
PostgreSQL and MariaDB (the connection's ``lock_timeout``, 10 s by default). A writer or a session holding
the lock row longer makes the roll-up fail ("database is locked", "lock timeout"), and the scheduler retries
after its back-off instead of being stuck. PostgreSQL and MariaDB never make a fold wait on an open
insert."""
MARK_CHUNK = 500
"""Ids per ``UPDATE ... WHERE id IN (...)`` when a batch is marked rolled up."""
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
    """Another roll-up folded some of this batch's events first; this one's batch was rolled back."""


def roll_up(now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Fold every pending event that occurred at or before ``now`` (default: now); returns how many.

    A batch that fails is folded again in halves, so one event the database refuses is isolated,
    quarantined (see :func:`quarantine`) and passed over: it never blocks the events after it.
    """
    cutoff = now or utcnow()
    total, refused = 0, [0]
    _ensure_lock_row()
    while True:
        events = _pending_batch(cutoff, batch_size)
        if not events:
            return total
        total += _fold_or_isolate(events, refused, first_try=True)
        if len(events) < batch_size:
            return total


def _pending_batch(cutoff: datetime, batch_size: int) -> list[Any]:
    """The first ``batch_size`` pending events in id order (plain rows: a batch is only read here)."""
    table = AnalyticsEvent.__table__
    query = (
        select(table)
        .where(table.c.rolled_up == false(), table.c.occurred_at <= cutoff)
        .order_by(table.c.id)
        .limit(batch_size)
    )
    events = list(db.session.execute(query).all())
    db.session.rollback()  # end the read; each fold is its own transaction
    return events


def _fold_or_isolate(events: Sequence[Any], refused: list[int], first_try: bool = False) -> int:
    """Fold ``events``; on a data error, fold halves; returns how many were folded."""
    try:
        _fold(events)
        return len(events)
    except (ConcurrentRollUp, OperationalError, InterfaceError, ProgrammingError):
        raise  # a race, an unreachable or locked database, a schema behind the code: try again later
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
            quarantine(events[0], error)
            return 0
        middle = len(events) // 2
        return _fold_or_isolate(events[:middle], refused) + _fold_or_isolate(events[middle:], refused)


def _refuse_one_more(refused: list[int], error: Exception) -> None:
    # Many refusals in one run point at the code or the database, not at the events: stop, keep them.
    refused[0] += 1
    if refused[0] > MAX_QUARANTINED_PER_RUN:
        raise RuntimeError(
            f"analytics roll-up stopped: more than {MAX_QUARANTINED_PER_RUN} events refused in one run; "
            "the cause is probably not the events (see the logged errors)"
        ) from error


def _fold(events: Sequence[Any]) -> None:
    """Add ``events`` to the rollups and mark them rolled up, in one transaction."""
    with transaction(), _bounded_lock_wait():
        _lock(max(event.id for event in events))
        _mark_rolled_up([event.id for event in events])
        _store(aggregate(events, known_visitors(events)))


@contextmanager
def _bounded_lock_wait() -> Iterator[None]:
    """Wait at most :data:`LOCK_WAIT_MS` for a lock inside the block, on this connection.

    A fold that cannot get the lock row (another roll-up, or a session someone left open holding it) then
    fails with an ``OperationalError`` and the scheduler retries it at its next slot, instead of holding a
    pooled connection, and its worker's scheduler, for as long as the lock is held. PostgreSQL's
    ``SET LOCAL`` ends with the transaction; SQLite's busy timeout and MariaDB's session variable are put
    back after the block."""
    connection = db.session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(LOCK_WAIT_MS)}ms'")
        yield
        return
    setting = LOCK_WAIT_SETTINGS.get(dialect)
    if setting is None:
        yield
        return
    read, write, scale = setting
    previous = connection.exec_driver_sql(read).scalar()
    connection.exec_driver_sql(write.format(int(LOCK_WAIT_MS / scale)))
    try:
        yield
    finally:
        connection.exec_driver_sql(write.format(int(previous or 0)))


LOCK_WAIT_SETTINGS = {
    "sqlite": ("PRAGMA busy_timeout", "PRAGMA busy_timeout = {}", 1),
    "mysql": ("SELECT @@SESSION.innodb_lock_wait_timeout", "SET SESSION innodb_lock_wait_timeout = {}", 1000),
    "mariadb": (
        "SELECT @@SESSION.innodb_lock_wait_timeout",
        "SET SESSION innodb_lock_wait_timeout = {}",
        1000,
    ),
}
"""Per dialect: how to read the lock wait, how to set it, and its unit in milliseconds."""


def _lock(highest_id: int) -> None:
    """Take the roll-up's lock row (first statement of a fold: a concurrent fold waits here)."""
    column = StatsWatermark.last_event_id
    db.session.execute(
        update(StatsWatermark)
        .where(StatsWatermark.id == 1)
        .values(last_event_id=case((column < highest_id, highest_id), else_=column))
    )


def _mark_rolled_up(ids: Sequence[int]) -> None:
    """Flip ``rolled_up`` of exactly ``ids``; :class:`ConcurrentRollUp` if any was no longer pending."""
    table = AnalyticsEvent.__table__
    changed = 0
    for start in range(0, len(ids), MARK_CHUNK):
        result = db.session.execute(
            update(table)
            .where(table.c.id.in_(ids[start : start + MARK_CHUNK]), table.c.rolled_up == false())
            .values(rolled_up=True)
        )
        changed += result.rowcount  # type: ignore[attr-defined]
    if changed != len(ids):
        raise ConcurrentRollUp(
            f"{len(ids) - changed} of {len(ids)} events were folded or deleted concurrently; "
            "this batch is rolled back"
        )


def quarantine(event: Any, error: BaseException) -> None:
    """Copy ``event`` with ``error`` into ``event_quarantine`` and mark it rolled up (never counted)."""
    data = {name: _json_value(value) for name, value in event._mapping.items()}
    with transaction(), _bounded_lock_wait():
        _lock(event.id)
        _mark_rolled_up([event.id])
        db.session.add(
            EventQuarantine(
                event_id=event.id,
                owner_id=event.owner_id,
                data=json.dumps(data, sort_keys=True),
                error=f"{type(error).__name__}: {error}"[:4000],
            )
        )
    log.error(
        "analytics roll-up: event %d quarantined (%s); %s in quarantine "
        "(table event_quarantine, `conexoos analytics quarantine`)",
        event.id,
        type(error).__name__,
        counted(quarantined_count(), "event"),
    )


def pending_count() -> int:
    """How many stored events are not rolled up yet (committed ones only)."""
    table = AnalyticsEvent.__table__
    return int(db.session.scalar(select(func.count()).where(table.c.rolled_up == false())) or 0)


def quarantined_count() -> int:
    """How many events the roll-up has set aside."""
    return int(db.session.scalar(select(func.count()).select_from(EventQuarantine)) or 0)


def quarantined(limit: int) -> list[EventQuarantine]:
    """The ``limit`` most recently quarantined events."""
    query = select(EventQuarantine).order_by(EventQuarantine.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _ensure_lock_row() -> None:
    """Create the roll-up's lock row on a fresh database (migration 0008 creates it on upgraded ones)."""
    with transaction():
        if db.session.get(StatsWatermark, 1) is None:
            db.session.add(StatsWatermark(id=1, last_event_id=0))


def known_visitors(events: Sequence[Any], reader: Session | None = None) -> set[tuple[int, date, str]]:
    """The (owner, day, hash) triples of ``events`` already counted as unique (read through ``reader``,
    default: the default connection)."""
    session = db.session() if reader is None else reader
    wanted = {(e.owner_id, e.occurred_at.date(), e.visitor_hash) for e in events if e.visitor_hash}
    found: set[tuple[int, date, str]] = set()
    candidates = list(wanted)
    for start in range(0, len(candidates), 500):
        chunk = candidates[start : start + 500]
        query = select(StatsVisitor.owner_id, StatsVisitor.day, StatsVisitor.visitor_hash).where(
            tuple_(StatsVisitor.owner_id, StatsVisitor.day, StatsVisitor.visitor_hash).in_(chunk)
        )
        found.update((row[0], row[1], row[2]) for row in session.execute(query))
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
    with transaction():
        events = db.session.execute(
            delete(AnalyticsEvent).where(
                AnalyticsEvent.occurred_at < now - timedelta(days=retention_days),
                AnalyticsEvent.rolled_up == true(),
            )
        )
        visitors = db.session.execute(
            delete(StatsVisitor).where(StatsVisitor.day < now.date() - timedelta(days=2))
        )
    salts = forget_salts_before(now.date() - timedelta(days=1))
    deleted_events: int = getattr(events, "rowcount", 0) or 0
    deleted_visitors: int = getattr(visitors, "rowcount", 0) or 0
    return {"events": deleted_events, "visitors": deleted_visitors, "salts": salts}
