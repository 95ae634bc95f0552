"""Sending the outbox: each due message is claimed by one process, sent, then marked sent, retried later
with exponential back-off, or failed for good (refused by the server with a 5xx for this message).

Delivery is at least once: a process that dies between sending and marking leaves its claim, which is
released after :data:`CLAIM_LEASE` and sent again. Two processes never send the same claimed row.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import select, update

from ..database import db
from ..lazy import lazy_module
from ..smtp import describe_smtp_error
from .outbox import FAILED, NO_MAILBOX, QUEUED, SENDING, SENT, OutboxMessage, never_delivered, utcnow
from .setup import mail_state
from .transport import Transport

if TYPE_CHECKING:
    import smtplib
else:
    smtplib = lazy_module("smtplib")  # at the first delivery error told apart (framework/smtp.py)

log = logging.getLogger("conexoos.mail")
BATCH = 50
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)
MAX_ATTEMPTS = 80
"""About three days of attempts (30 s doubling up to one an hour): then the message is failed."""
CLAIM_LEASE = timedelta(minutes=10)


@dataclass
class DeliveryReport:
    """What one delivery run did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0


def deliver_due(transport: Transport | None = None, now: datetime | None = None) -> DeliveryReport:
    """Send the messages that are due (at most :data:`BATCH`); needs an app context.

    ``transport`` defaults to the app's (see :func:`~conexoos.framework.mail.init_mail`); with none
    (UAT/PROD without SMTP) nothing is sent and the messages wait.
    """
    now = now or utcnow()
    report = DeliveryReport()
    transport = transport or _app_transport()
    if transport is None:
        return report
    _release_stale_claims(now)
    due = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == QUEUED, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(BATCH)
    ).all()
    try:
        for message_id in due:
            if _claim(message_id, now) and not _send_one(transport, message_id, now, report):
                break  # the server is down or refuses us: the rest waits for the next run
    finally:
        transport.close()
    return report


def retry_failed(ids: Sequence[int] = ()) -> list[int]:
    """Queue failed messages again (those of ``ids``, or every failed one), but none to the ``.invalid``
    domain; return the ids queued again."""
    query = select(OutboxMessage.id, OutboxMessage.recipient).where(OutboxMessage.status == FAILED)
    if ids:
        query = query.where(OutboxMessage.id.in_(list(ids)))
    found = sorted(
        number for number, to in db.session.execute(query.with_for_update()) if not never_delivered(to)
    )
    if found:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(found), OutboxMessage.status == FAILED)
            .values(status=QUEUED, attempts=0, next_attempt_at=utcnow(), claimed_at=None)
        )
    db.session.commit()
    return found


def failed_never_delivered() -> int:
    """How many failed messages are to the ``.invalid`` domain (:func:`retry_failed` leaves them)."""
    recipients = db.session.scalars(select(OutboxMessage.recipient).where(OutboxMessage.status == FAILED))
    return sum(1 for recipient in recipients if never_delivered(recipient))


def not_retried(ids: Sequence[int], retried: Sequence[int]) -> list[str]:
    """One line per id of ``ids`` that was not queued again: it does not exist, or is not failed."""
    missing = [number for number in dict.fromkeys(ids) if number not in set(retried)]
    if not missing:
        return []
    found = {
        number: (status, to)
        for number, status, to in db.session.execute(
            select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.recipient).where(
                OutboxMessage.id.in_(missing)
            )
        )
    }
    return [_why_not_retried(number, found.get(number)) for number in missing]


def _why_not_retried(number: int, found: tuple[str, str] | None) -> str:
    if found is None:
        return f"no failed message with id {number}"
    status, recipient = found
    if status == FAILED and never_delivered(recipient):
        return f"message {number} is to {recipient}, whose domain .invalid receives no mail: not queued again"
    return f"message {number} is {status}, not failed: not queued again"


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 30 s, 1 min, 2 min... at most 1 hour."""
    return min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_CAP)


def _claim(message_id: int, now: datetime) -> bool:
    """Take the message for this process: an UPDATE only one process can make (it must still be queued)."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == QUEUED,
            OutboxMessage.next_attempt_at <= now,
        )
        .values(status=SENDING, claimed_at=now, attempts=OutboxMessage.attempts + 1)
    )
    db.session.commit()
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def _send_one(transport: Transport, message_id: int, now: datetime, report: DeliveryReport) -> bool:
    """Send one claimed message and record the outcome; False when the server itself is failing."""
    row = db.session.get(OutboxMessage, message_id)
    if row is None:  # deleted meanwhile (its account was deleted)
        return True
    if never_delivered(row.recipient):  # queued before such mail was failed at once
        row.status, row.last_error, row.claimed_at = FAILED, NO_MAILBOX, None
        db.session.commit()
        report.failed += 1
        return True
    try:
        transport.send(row.message, row.recipient, f"{now:%Y%m%dT%H%M%S}-{row.id}")
    except (OSError, smtplib.SMTPException, UnicodeError) as error:
        permanent = _is_permanent(error)
        _record_failure(row, error, now, permanent, report)
        return permanent
    row.status, row.sent_at, row.last_error, row.claimed_at = SENT, now, "", None
    row.message = ""  # read by nothing once sent; its links must not outlive their use (see retention.py)
    db.session.commit()
    report.sent += 1
    return True


def _record_failure(
    row: OutboxMessage, error: BaseException, now: datetime, permanent: bool, report: DeliveryReport
) -> None:
    reason = describe_smtp_error(error)[:1000]
    row.last_error, row.claimed_at = reason, None
    if permanent or row.attempts >= MAX_ATTEMPTS:
        row.status = FAILED
        report.failed += 1
        log.error(
            "mail %s to %s failed for good after %d attempts: %s", row.id, row.recipient, row.attempts, reason
        )
    else:
        row.status, row.next_attempt_at = QUEUED, now + retry_delay(row.attempts)
        report.retrying += 1
        log.warning(
            "mail %s to %s not sent (attempt %d, next at %s UTC): %s",
            row.id,
            row.recipient,
            row.attempts,
            row.next_attempt_at.isoformat(timespec="seconds"),
            reason,
        )
    db.session.commit()


def _is_permanent(error: BaseException) -> bool:
    """A 5xx refusal of this message or its recipient. A server that is down, refuses our login or our
    sender is a problem of the server or the configuration: the message waits for it to be fixed."""
    if isinstance(error, UnicodeError):  # a row no server can take (e.g. written by hand)
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(code >= 500 for code, _ in error.recipients.values())
    return isinstance(error, smtplib.SMTPDataError) and error.smtp_code >= 500


def _release_stale_claims(now: datetime) -> None:
    """Queue again the messages whose claim is older than the lease (their process died while sending)."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == SENDING, OutboxMessage.claimed_at < now - CLAIM_LEASE)
        .values(status=QUEUED, claimed_at=None, next_attempt_at=now)
    )
    db.session.commit()


def _app_transport() -> Transport | None:
    return mail_state(current_app).transport()
