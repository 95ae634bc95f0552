"""The audit log: every admin and moderator action, with who, when, what, and the state before and after.

Every staff feature calls :func:`record` inside the transaction that makes the change, so the change and
its entry are committed (or rolled back) together::

    before = {"role": user.role}
    user.role = new_role
    audit.record("user.role", user, before, {"role": user.role}, f"role of {user.username} changed")
    db.session.commit()

The log is append-only: nothing in the product updates or deletes an entry (an account's deletion sets
``actor_id`` to NULL; the actor's name stays). :func:`entries`, :func:`count` and :func:`export_csv`
read it with the filters of :class:`AuditFilter`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import Select, func, select

from conexoos.app.models.persistent import AuditEntry, User
from conexoos.app.models.persistent.base import utcnow
from conexoos.app.utils.csv_export import to_csv
from conexoos.framework import db

MAX_STATE_CHARACTERS = 20_000
"""The most JSON text ``before`` or ``after`` may hold: an entry records fields, never files."""
CSV_HEADER = (
    "id",
    "at (UTC)",
    "actor id",
    "actor",
    "action",
    "target type",
    "target id",
    "summary",
    "before",
    "after",
    "remote address",
)
EXPORT_LIMIT = 100_000
"""The most entries one CSV export holds (narrow the filters for more)."""
Target = tuple[str, object]
"""What an entry is about: a type (``user``, ``setting``, ``invite``...) and its id."""


class AuditError(ValueError):
    """An entry that cannot be recorded (a state too large to keep, an unknown target)."""


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to read; empty fields do not filter. Dates are UTC days, both included."""

    actor: str = ""
    """A username (as kept in ``actor_name``), case-insensitive, exact."""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    since: date | None = None
    until: date | None = None


def target_of(item: object) -> Target:
    """The target of a model row (its table name and id), or a ``(type, id)`` tuple as given. A row added
    in this transaction and not yet inserted is flushed first, so that it has its id."""
    if isinstance(item, tuple) and len(item) == 2:
        return str(item[0]), item[1]
    table = getattr(item, "__tablename__", None)
    if table is None or not hasattr(item, "id"):
        raise AuditError(f"cannot name the target {item!r}: pass a model row or a (type, id) tuple")
    if item.id is None and item in db.session.new:
        db.session.flush()
    return str(table), item.id


def record(
    action: str,
    target: object,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    summary: str = "",
    actor: User | None = None,
    acting: str = "operator (command line)",
) -> AuditEntry:
    """Add an entry to the current transaction (no commit: the caller commits it with its change).

    ``actor`` defaults to the logged-in user of the current request; outside a request (an operator
    command) give it, or leave it None for ``acting``, who acted then: "the operator", or a scheduled task
    (``task billing-grace``). ``action`` is a dotted name such as ``user.suspend``.
    """
    target_type, target_id = target_of(target)
    who = actor if actor is not None else _current_actor()
    entry = AuditEntry(
        at=utcnow(),
        actor_id=who.id if who is not None else None,
        actor_name=who.username if who is not None else acting[:64],
        action=action[:64],
        target_type=target_type[:32],
        target_id="" if target_id is None else str(target_id)[:64],
        summary=summary[:500],
        before=_state(before),
        after=_state(after),
        remote_address=(request.remote_addr or "")[:45] if has_request_context() else "",
    )
    db.session.add(entry)
    return entry


def _current_actor() -> User | None:
    if has_request_context() and current_user.is_authenticated:
        return current_user._get_current_object()  # type: ignore[no-any-return,unused-ignore]
    return None


def _state(state: Mapping[str, Any] | None) -> str | None:
    if state is None:
        return None
    text = json.dumps(dict(state), sort_keys=True, default=str, ensure_ascii=False)
    if len(text) > MAX_STATE_CHARACTERS:
        raise AuditError(f"an audit state holds at most {MAX_STATE_CHARACTERS} characters of JSON")
    return text


def decoded(text: str | None) -> dict[str, Any] | None:
    """An entry's ``before`` or ``after`` as a dict (None when the entry has none)."""
    return None if text is None else dict(json.loads(text))


def _filtered(query: Select[Any], where: AuditFilter) -> Select[Any]:
    if where.actor:
        query = query.where(func.lower(AuditEntry.actor_name) == where.actor.strip().lower())
    if where.action:
        query = query.where(AuditEntry.action == where.action)
    if where.target_type:
        query = query.where(AuditEntry.target_type == where.target_type)
    if where.target_id:
        query = query.where(AuditEntry.target_id == where.target_id)
    if where.since is not None:
        query = query.where(AuditEntry.at >= datetime.combine(where.since, time(), UTC))
    if where.until is not None:
        query = query.where(AuditEntry.at < datetime.combine(where.until + timedelta(days=1), time(), UTC))
    return query


def entries(where: AuditFilter, limit: int = 50, offset: int = 0) -> Sequence[AuditEntry]:
    """One page of the entries matching ``where``, newest first."""
    query = _filtered(select(AuditEntry), where)
    return db.session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)
    ).all()


def count(where: AuditFilter) -> int:
    """How many entries match ``where``."""
    query = _filtered(select(func.count()).select_from(AuditEntry), where)
    return int(db.session.scalar(query) or 0)


def actions() -> list[str]:
    """Every action name recorded so far, sorted (for the filter's choices)."""
    return sorted(db.session.scalars(select(AuditEntry.action).distinct()).all())


def export_csv(where: AuditFilter) -> str:
    """The entries matching ``where`` (newest first, at most :data:`EXPORT_LIMIT`) as CSV text; a cell
    that a spreadsheet would read as a formula is escaped (see ``utils/csv_export.py``)."""
    return to_csv(CSV_HEADER, _rows(entries(where, EXPORT_LIMIT)))


def _rows(found: Sequence[AuditEntry]) -> Iterator[tuple[object, ...]]:
    for entry in found:
        yield (
            entry.id,
            entry.at.isoformat(),
            entry.actor_id or "",
            entry.actor_name,
            entry.action,
            entry.target_type,
            entry.target_id,
            entry.summary,
            entry.before or "",
            entry.after or "",
            entry.remote_address,
        )
