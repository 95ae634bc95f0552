"""The analytics events' write buffer: a request queues its view or click (see framework/write_buffer.py)
and returns; the task ``analytics-buffer-flush`` inserts the queued events into ``analytics_event``.

Each event carries the ``event_id`` (a UUID) given when it was recorded, and the insert skips an id the
table already holds (``ON CONFLICT DO NOTHING`` on PostgreSQL and SQLite, a no-op ``ON DUPLICATE KEY
UPDATE`` on MariaDB, which unlike ``INSERT IGNORE`` hides no other error). So a flush that crashed after
its insert and before acknowledging the queue, or two flushes overlapping across hosts, count an event
once. An event the database refuses (bad data) is isolated and kept in ``event_quarantine``, never dropped
and never blocking the queue; while the database is down nothing is acknowledged and the events wait.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.sql.dml import Insert

from conexoos.app.models.persistent import AnalyticsEvent, User
from conexoos.app.models.persistent.base import transaction
from conexoos.app.models.persistent.event import EventQuarantine
from conexoos.app.utils.useragent import classify
from conexoos.framework import db, runtime
from conexoos.framework.write_buffer import Payload, WriteQueue, drain, open_write_buffer

from .visitors import hash_of_deferred

log = logging.getLogger("conexoos.analytics")
QUEUE_NAME = "analytics-events"
EXTENSION = "conexoos.analytics_buffer"
BATCHES_PER_RUN = 20
"""Batches one flush stores at most, so a long backlog is worked off over several runs."""
COLUMNS = frozenset(
    ("event_id", "owner_id", "link_id", "kind", "occurred_at", "referrer_host", "utm_source")
    + ("utm_medium", "utm_campaign", "device", "os", "browser", "country", "visitor_hash")
)


def event_queue() -> WriteQueue:
    """The current app's queue of recorded events (opened once per process)."""
    queue: WriteQueue | None = current_app.extensions.get(EXTENSION)
    if queue is None:
        framework = runtime()
        fsync = current_app.config["CONEXOOS_ANALYTICS"].buffer_fsync
        queue = open_write_buffer(framework.settings, framework.services, QUEUE_NAME, fsync=fsync)
        current_app.extensions[EXTENSION] = queue
    return queue


def enqueue(event: dict[str, Any]) -> None:
    """Make ``event`` (the columns of one row, ``occurred_at`` a datetime) durable in the queue.

    Raises :class:`conexoos.framework.write_buffer.WriteBufferError` when no queue takes it.
    """
    enqueue_encoded({**event, "occurred_at": event["occurred_at"].isoformat()})


def enqueue_encoded(event: dict[str, Any]) -> None:
    """:func:`enqueue` for an event whose ``occurred_at`` is already in ISO format (as the queue keeps it)."""
    event_queue().append(event)


def flush(batch_size: int | None = None) -> int:
    """Insert the queued events (at most BATCHES_PER_RUN batches); how many were read from the queue."""
    size = batch_size or current_app.config["CONEXOOS_ANALYTICS"].flush_batch
    return drain(event_queue(), lambda payloads: store(payloads, size), size, BATCHES_PER_RUN)


def pending() -> int:
    """Events waiting in the queue (not in the database yet)."""
    return event_queue().pending()


def store(payloads: Sequence[Payload], batch_size: int) -> None:
    """Insert ``payloads`` in one transaction, skipping ids already stored and events of deleted owners."""
    rows = _rows_of_living_owners([row for row in map(_row, payloads) if row is not None])
    if not rows:
        return
    try:
        with transaction():
            for start in range(0, len(rows), batch_size):
                db.session.execute(_insert(), rows[start : start + batch_size])
    except (DataError, IntegrityError) as error:  # this data refused: not the database's availability
        log.error("analytics flush: %d events refused together (%s); inserting one by one", len(rows), error)
        for row in rows:
            _store_one(row)


def _store_one(row: dict[str, Any]) -> None:
    try:
        with transaction():
            db.session.execute(_insert(), [row])
    except (DataError, IntegrityError) as error:
        quarantine(row, error)


def quarantine(row: dict[str, Any], error: BaseException) -> None:
    """Keep an event the database refused in ``event_quarantine`` (with why), and say so."""
    data = json.dumps({**row, "occurred_at": row["occurred_at"].isoformat()}, sort_keys=True)
    log.error("analytics flush: event %s refused (%s); kept in event_quarantine", row["event_id"], error)
    with transaction():
        db.session.add(EventQuarantine(event_id=0, owner_id=row["owner_id"], data=data, error=str(error)))


def _insert() -> Insert:
    """``INSERT`` into analytics_event that skips an ``event_id`` already stored, in the dialect's words."""
    table = AnalyticsEvent.__table__
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql  # here: a server on SQLite never loads it (2.4 MiB)

        return postgresql.insert(table).on_conflict_do_nothing(index_elements=["event_id"])
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite  # here: a server on PostgreSQL or MariaDB never loads it

        return sqlite.insert(table).on_conflict_do_nothing(index_elements=["event_id"])
    if dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects import mysql  # loaded with the MariaDB driver already

        statement = mysql.insert(table)
        return statement.on_duplicate_key_update(event_id=statement.inserted.event_id)
    raise RuntimeError(f"the analytics flush does not know how to skip duplicates on {dialect}")


def _row(payload: Payload) -> dict[str, Any] | None:
    """The table row of a queued event; None for a bot's (not counted), and, with an error line, for a
    payload that is not an event."""
    try:
        classified = _classified(payload)
        if classified is None:
            return None
        row = {name: classified[name] for name in COLUMNS}
        row["occurred_at"] = datetime.fromisoformat(str(payload["occurred_at"]))
        if payload.get("visitor_key"):  # recorded while the salt was unreadable: salted now
            row["visitor_hash"] = hash_of_deferred(str(payload["visitor_key"]), row["occurred_at"].date())
    except (KeyError, ValueError) as error:
        log.error("analytics flush: a queued payload is not an event (%r); set aside: %r", error, payload)
        return None
    return row


def _classified(payload: Payload) -> Payload | None:
    """``payload`` with the device, system and browser of its ``user_agent`` (which the request queued,
    see controllers/analytics.py), or None when that is a bot's; a payload queued with them already (by
    an earlier release) as it is."""
    if "user_agent" not in payload:
        return payload
    client = classify(str(payload["user_agent"]))
    if client.is_bot:
        return None
    return {**payload, "device": client.device, "os": client.os, "browser": client.browser}


def _rows_of_living_owners(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` without those of owners deleted since (their events were deleted with them)."""
    owners = {row["owner_id"] for row in rows}
    living = set(db.session.scalars(select(User.id).where(User.id.in_(owners)))) if owners else set()
    db.session.rollback()  # end the read; the insert is its own transaction
    return [row for row in rows if row["owner_id"] in living]
