"""Outgoing mail for any project: a durable outbox in the default database, sent by a framework task.

A project turns it on with :func:`init_mail` (in its ``server/middleware.py``), then queues messages with
:func:`queue_message` inside its own transaction: the row is committed with the caller's writes (a
rolled-back request queues nothing) and sent by the ``mail-outbox`` task, once per cluster, never inside
a request. Without ``SERVICES.smtp`` under DEV, messages go to the log and to ``instance/mail/*.eml``.

Built on the standard library's ``email`` (MIME, encodings, and refusal of line breaks in headers) and
``smtplib`` (see :mod:`conexoos.framework.smtp`) rather than Flask-Mailman: its STARTTLS passes no TLS
context, so smtplib would not verify the server's certificate, and its messages need an app context to be
built, which the outbox (built when queued, sent later) does not want.
"""

from .delivery import DeliveryReport, deliver_due, retry_failed
from .message import MailError, build_message
from .outbox import OutboxMessage, outbox_counts, queue_message
from .retention import Retention, forget_mail_to, prune_outbox, retention
from .setup import MAIL_TASK, PRUNE_TASK, init_mail

__all__ = [
    "MAIL_TASK",
    "DeliveryReport",
    "MailError",
    "OutboxMessage",
    "PRUNE_TASK",
    "Retention",
    "build_message",
    "deliver_due",
    "forget_mail_to",
    "init_mail",
    "outbox_counts",
    "prune_outbox",
    "queue_message",
    "retention",
    "retry_failed",
]
