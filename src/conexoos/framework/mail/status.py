"""What ``conexoos mail status`` prints: where mail goes, counts by state, failed and waiting messages."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from ..database import db
from .outbox import FAILED, QUEUED, OutboxMessage, never_delivered, outbox_counts
from .setup import MAIL_EXTENSION


def describe_outbox(app: Flask, limit: int) -> list[str]:
    """Lines for operators; a project that never called ``init_mail`` is told so."""
    state = app.extensions.get(MAIL_EXTENSION)
    if state is None:
        return ["this project does not send mail (it never calls conexoos.framework.mail.init_mail)"]
    counts = outbox_counts()
    totals = ", ".join(f"{count} {status}" for status, count in counts.items())
    lines = [f"mail is {state.describe()}", totals]
    for status in (FAILED, QUEUED):
        rows = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == status)
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        ).all()
        lines += [_row(row) for row in rows]
    return lines


def _row(row: OutboxMessage) -> str:
    when = row.next_attempt_at.isoformat(timespec="seconds")
    if row.status == QUEUED:
        tail = f"next attempt {when} UTC"
    elif never_delivered(row.recipient):
        tail = "never sent: its domain receives no mail"
    else:
        tail = "retry with `conexoos mail retry ID`"
    error = f"\t{row.last_error}" if row.last_error else ""
    return (
        f"{row.status} {row.id}\tto {row.recipient}\t{row.subject!r}\t{row.attempts} attempts\t{tail}{error}"
    )
