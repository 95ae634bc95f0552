"""The outbox: each message to send is a row of ``mail_outbox`` in the project's default database.

A row is ``queued`` (waiting, maybe after a failed attempt, until ``next_attempt_at``), ``sending`` (claimed
by one process), ``sent``, or ``failed`` (refused for good, with the reason in ``last_error``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import DateTime, Index, Integer, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from ..database import db
from ..mariadb_types import MediumText
from .message import build_message
from .setup import mail_state

OUTBOX_TABLE = "mail_outbox"
log = logging.getLogger(__name__)
QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
STATUSES = (QUEUED, SENDING, SENT, FAILED)
NO_MAILBOX = "not sent: the domain .invalid receives no mail (RFC 6761), so the message was never queued"
"""``last_error`` of a message to an address kept unusable on purpose (``...@invalid``)."""
LONG_TEXT = MediumText()
"""A whole message (MariaDB's TEXT stops at 64 KB)."""


def utcnow() -> datetime:
    """Now, as the outbox stores it: naive UTC (SQLite and MariaDB keep no time zone) in whole seconds
    (MariaDB's DATETIME keeps no fraction), so that a time compares the same after a round trip."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class OutboxMessage(db.Model):  # type: ignore[name-defined]
    """One message, ready to send as it is: its bytes are built when it is queued."""

    __tablename__ = OUTBOX_TABLE
    __table_args__ = (Index("ix_mail_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    message: Mapped[str] = mapped_column(LONG_TEXT, nullable=False)
    """The whole RFC 5322 message (ASCII: every part is encoded), sent byte for byte; emptied once sent."""
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(), nullable=False, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)
    last_error: Mapped[str] = mapped_column(String(1000), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(), nullable=False, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)


def queue_message(
    recipient: str, subject: str, text: str, html: str, sender: str | None = None
) -> OutboxMessage:
    """Add a message to the outbox in the current transaction (``db.session``); the caller commits.
    A message to the domain ``invalid`` (an address a product keeps unusable on purpose) is added
    ``failed`` at once, with the reason: no attempt is made, and the outbox says why.

    ``sender`` defaults to ``SERVICES.smtp.FROM`` (see :func:`~conexoos.framework.smtp.default_sender`).

    Nothing is sent here: the ``mail-outbox`` task sends it after the commit, and a rollback drops it.
    Raises :class:`~conexoos.framework.mail.MailError` for a bad address or header.
    """
    now = utcnow()
    sender = sender or mail_state(current_app).sender
    built = build_message(sender, recipient, subject, text, html, date=now.replace(tzinfo=UTC))
    row = OutboxMessage(
        recipient=str(built["To"]),  # its domain in ASCII (IDNA), as the envelope needs it
        subject=subject[:255],
        message=built.as_string(),
        status=QUEUED,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        last_error="",
    )
    if never_delivered(row.recipient):
        row.status, row.last_error = FAILED, NO_MAILBOX
        log.info("mail to %s not sent (%s): the domain .invalid receives no mail", row.recipient, subject)
    db.session.add(row)
    return row


def never_delivered(recipient: str) -> bool:
    """Whether ``recipient`` is at the domain ``invalid`` (RFC 6761), which receives no mail."""
    domain = recipient.rpartition("@")[2].rstrip(">").removesuffix(".").lower()
    return domain == "invalid" or domain.endswith(".invalid")


def outbox_counts() -> dict[str, int]:
    """How many messages are in each status (every status listed, 0 included)."""
    rows = db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: count for status, count in rows})
    return counts
