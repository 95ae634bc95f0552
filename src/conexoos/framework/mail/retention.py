"""How long the outbox keeps what it sent: sent messages are pruned after ``SERVICES.smtp.KEEP_SENT_DAYS``,
failed ones after ``KEEP_FAILED_DAYS``, by the ``mail-outbox-prune`` task; and a project forgets the
sent and failed mail of an address it no longer serves (a deleted account) with :func:`forget_mail_to`.

A sent message's body is emptied when it is sent (see :mod:`.delivery`): nothing reads it again, and it
holds what should not outlive its use (links that log in, reset a password, confirm an address). What an
operator needs stays until the row is pruned: id, recipient, subject, status, times, attempts, last error.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_

from ..config import Settings
from ..database import db
from ..schema import SERVICES, Key
from .message import MailError, ascii_address
from .outbox import FAILED, SENT, OutboxMessage, utcnow

KEEP_SENT = "KEEP_SENT_DAYS"
KEEP_FAILED = "KEEP_FAILED_DAYS"


@dataclass(frozen=True)
class Retention:
    """How long sent and failed messages stay in the outbox."""

    sent: timedelta
    failed: timedelta


def retention(settings: Settings) -> Retention:
    """``SERVICES.smtp.KEEP_SENT_DAYS`` and ``KEEP_FAILED_DAYS``, or their defaults without an smtp entry."""
    conf: dict[str, Any] = settings.services.get("smtp") or {}
    return Retention(
        sent=timedelta(days=_days(conf, KEEP_SENT)), failed=timedelta(days=_days(conf, KEEP_FAILED))
    )


def prune_outbox(kept: Retention, now: datetime | None = None) -> int:
    """Delete sent messages older than ``kept.sent`` (by their sending time) and failed ones older than
    ``kept.failed`` (by their queueing time), commit, and return how many went. Needs an app context."""
    now = now or utcnow()
    result = db.session.execute(
        delete(OutboxMessage).where(
            or_(
                (OutboxMessage.status == SENT) & (OutboxMessage.sent_at < now - kept.sent),
                (OutboxMessage.status == FAILED) & (OutboxMessage.created_at < now - kept.failed),
            )
        )
    )
    db.session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def forget_mail_to(addresses: Iterable[str]) -> int:
    """Delete the sent and failed messages to any of ``addresses`` (any case) in the caller's transaction
    (the caller commits); return how many. Queued messages and those being sent stay: they were promised,
    and go once sent like any other."""
    recipients = sorted({form for address in addresses for form in _forms(address)})
    if not recipients:
        return 0
    result = db.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status.in_((SENT, FAILED)), func.lower(OutboxMessage.recipient).in_(recipients)
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _forms(address: str) -> set[str]:
    """``address`` as typed and as the outbox stores it (its domain in ASCII), lowercased."""
    forms = {address.strip().lower()} - {""}
    with suppress(MailError):  # not mailable: no row can name it in an ASCII form
        forms.add(ascii_address(address.strip()).lower())
    return forms


def _days(conf: dict[str, Any], key: str) -> int:
    value = conf.get(key)
    return int(value) if value else _default_days(key)


def _default_days(key: str) -> int:
    smtp = SERVICES["smtp"]
    assert isinstance(smtp, dict)  # a section of keys, as schema.py declares it
    declared = smtp[key]
    assert isinstance(declared, Key)
    return int(declared.default)
