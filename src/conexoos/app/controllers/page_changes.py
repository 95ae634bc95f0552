"""Which commits change public pages, told to the page cache (``controllers/page_cache.py``) as marks.

Generic, so that a new table is covered without an edit here: after every commit,

- a changed row of ``user`` marks that user's page (a name, bio, avatar, username, plan, suspension or
  deletion); a changed row of any table with an ``owner_id`` or ``user_id`` column marks its owner's page
  (links, products, and the page blocks, appearance and locks of tables to come);
- a changed row of any other table marks the whole site (site settings such as the default theme or
  maintenance, the domain blocklist), unless the table is one of :data:`UNRELATED_TABLES`, which no page
  shows;
- bulk ``update()`` and ``delete()`` statements, which ORM events do not see row by row, mark the owners
  their ``WHERE`` names (``owner_id == 5``, ``user.id == 5``), or the whole site when it names none.

A rolled-back transaction marks nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import Column, Table, event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, ClauseElement

from conexoos.framework import db
from conexoos.framework.cache import CacheUnavailable
from conexoos.framework.logs import EveryFewSeconds

SITE_MARK = "site"
OWNER_MARK = "owner-{}"
OWNER_COLUMNS = ("owner_id", "user_id")
USER_TABLE = "user"
UNRELATED_TABLES = frozenset(
    {
        # what visitors do: recording a view must not end the page it was a view of
        "analytics_event",
        "event_quarantine",
        "stats_rollup",
        "stats_visitor",
        "stats_salt",
        "stats_watermark",
        # signing in, security and account housekeeping: never on a public page
        "user_session",
        "user_totp",
        "recovery_code",
        "passkey",
        "external_identity",
        "reset_request",
        "pending_signup",
        "held_username",
        "invite",
        "export_job",
        "audit_log",
        "report",
        # what visitors leave on a page's sign-up forms: the owner's dashboard shows it, the page does not
        # (but for its forms closing at the plan's limit and opening below it: capture_entries marks that)
        "capture_entry",
        # billing bookkeeping (the plan itself is a column of ``user``)
        "stripe_event",
        "stripe_subscription_seen",
        # the site's own pages, menus and media library, which the public page does not show
        "site_page",
        "site_page_revision",
        "menu_item",
        "media_item",
        # the framework's: mail waiting to be sent, files of the database storage (a new avatar or product
        # image is a new name on its ``user`` or ``product`` row, which marks the page)
        "mail_outbox",
        "media_file",
    }
)
"""Tables no public page shows; every other table's change ends its owner's page or, without an owner,
every page."""
LOCK_ONLY = "conexoos_lock_only"
"""Execution option of a statement that only takes a lock (``owner_lock``'s no-op ``UPDATE`` on SQLite):
it changes no row, so it marks no page."""
PENDING = "conexoos.page_changes"
log = logging.getLogger("conexoos.page_cache")
_mark_warning = EveryFewSeconds(60.0)


def watch_changes() -> None:
    """Listen to the commits of ``db.session`` (once per process, for every app)."""
    if event.contains(db.session, "after_commit", _after_commit):
        return
    event.listen(db.session, "after_flush", _after_flush)
    event.listen(db.session, "do_orm_execute", _after_bulk_statement)
    event.listen(db.session, "after_commit", _after_commit)
    event.listen(db.session, "after_rollback", _after_rollback)


def marks_of(table: Table, owner_ids: Iterable[Any]) -> set[str]:
    """The marks a change of ``table`` rows owned by ``owner_ids`` sets (the site's when none is known)."""
    if table.name in UNRELATED_TABLES:
        return set()
    owners = {OWNER_MARK.format(int(owner)) for owner in owner_ids if owner is not None}
    return owners or {SITE_MARK}


def mark_page(owner_id: int) -> None:
    """Mark ``owner_id``'s page as changed by the current transaction (when it commits; nothing on a
    rollback): for a change to a table of :data:`UNRELATED_TABLES` that alters the page after all."""
    _pending(db.session()).add(OWNER_MARK.format(int(owner_id)))


def _pending(session: Session) -> set[str]:
    marks: set[str] = session.info.setdefault(PENDING, set())
    return marks


def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    """Collect the marks of the rows this flush inserted, changed or deleted."""
    changed = [*session.new, *session.deleted]
    changed += [row for row in session.dirty if session.is_modified(row, include_collections=False)]
    for row in changed:
        table = getattr(type(row), "__table__", None)
        if isinstance(table, Table):
            _pending(session).update(marks_of(table, _row_owners(row, table)))


def _row_owners(row: Any, table: Table) -> list[Any]:
    """The users whose page a row belongs to: the user itself, or the row's owner column."""
    if table.name == USER_TABLE:
        return [row.id]
    return [getattr(row, column) for column in OWNER_COLUMNS if column in table.columns]


def _after_bulk_statement(state: ORMExecuteState) -> None:
    """Collect the marks of a bulk ``update()`` or ``delete()`` run through the session."""
    if not (state.is_update or state.is_delete) or state.execution_options.get(LOCK_ONLY):
        return
    table = getattr(state.statement, "table", None)
    if isinstance(table, Table):
        where = getattr(state.statement, "whereclause", None)
        owners = _owners_named(where, table) if where is not None else []
        _pending(state.session).update(marks_of(table, owners))


def _owners_named(where: ClauseElement, table: Table) -> list[Any]:
    """The owner ids that ``where`` pins with ``column == value`` on the table's owner column (``id`` for
    ``user``); empty when it pins none (the statement may touch any owner's rows)."""
    names = ("id",) if table.name == USER_TABLE else OWNER_COLUMNS
    criteria = where.clauses if hasattr(where, "clauses") and where.operator is operators.and_ else [where]  # type: ignore[attr-defined]
    owners: list[Any] = []
    for criterion in criteria:
        if (
            isinstance(criterion, BinaryExpression)
            and criterion.operator is operators.eq
            and isinstance(criterion.left, Column)
            and getattr(criterion.left.table, "name", None) == table.name
            and criterion.left.name in names
            and isinstance(criterion.right, BindParameter)
        ):
            owners.append(criterion.right.effective_value)
    return owners


def _after_commit(session: Session) -> None:
    """Set the marks collected by the committed transaction."""
    marks = session.info.pop(PENDING, None)
    if not marks or not has_app_context():
        return
    cache = current_app.extensions.get("conexoos.page_cache")
    if cache is None or not cache.settings.enabled:
        return
    try:
        cache.store.mark(sorted(marks))
    except CacheUnavailable as error:
        if _mark_warning.due():
            log.warning("page cache unavailable, changes not marked: %s", error)


def _after_rollback(session: Session) -> None:
    """Forget the marks of a transaction that did not happen."""
    session.info.pop(PENDING, None)
