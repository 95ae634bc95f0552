"""Turning mail on for a project: its transport and the ``mail-outbox`` task."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from ..config import Settings
from ..errors import ConfigError
from ..smtp import SmtpSettings, default_sender, smtp_settings
from .transport import FileTransport, SmtpTransport, Transport

MAIL_TASK = "mail-outbox"
MAIL_INTERVAL = 5
"""Seconds between two runs of the outbox task (each runs once per cluster)."""
PRUNE_TASK = "mail-outbox-prune"
PRUNE_INTERVAL = 3600
"""Seconds between two prunings of old sent and failed messages (see :mod:`.retention`)."""
MAIL_EXTENSION = "conexoos_mail"
MAIL_FOLDER = "mail"
log = logging.getLogger("conexoos.mail")


@dataclass(frozen=True)
class MailState:
    """How this app sends: through ``smtp``, into ``folder`` (DEV without SMTP), or not yet (neither)."""

    smtp: SmtpSettings | None
    folder: Path | None
    sender: str

    def transport(self) -> Transport | None:
        """A new transport for one delivery run, or None when mail waits for SERVICES.smtp."""
        if self.smtp is not None:
            return SmtpTransport(self.smtp)
        return FileTransport(self.folder) if self.folder is not None else None

    def describe(self) -> str:
        """Where mail goes, in words (for ``conexoos mail status``)."""
        if self.smtp is not None:
            return f"sent through {self.smtp.describe()} as {self.sender}"
        if self.folder is not None:
            return f"written to the log and to {self.folder}/*.eml (DEV without SERVICES.smtp)"
        return "waiting in the outbox: SERVICES.smtp is not configured"


def init_mail(app: Flask) -> MailState:
    """Turn mail on for ``app``: choose its transport and schedule the ``mail-outbox`` task.

    Call it once from the project's ``server/middleware.py``; the outbox lives in the default database.
    """
    runtime = app.extensions["conexoos"]
    settings: Settings = runtime.settings
    if not settings.databases:
        raise ConfigError(["DATABASE: mail needs a database for its outbox, and no connection is configured"])
    smtp = smtp_settings(settings)
    folder = settings.instance_path / MAIL_FOLDER if smtp is None and settings.is_development else None
    state = MailState(smtp, folder, smtp.sender if smtp else default_sender(settings))
    app.extensions[MAIL_EXTENSION] = state
    runtime.scheduler.every(MAIL_INTERVAL, _deliver, name=MAIL_TASK)
    runtime.scheduler.every(PRUNE_INTERVAL, _prune(settings), name=PRUNE_TASK)
    return state


def mail_state(app: Flask) -> MailState:
    """The app's :class:`MailState`; raises RuntimeError when the project never called :func:`init_mail`."""
    state: MailState | None = app.extensions.get(MAIL_EXTENSION)
    if state is None:
        raise RuntimeError("mail is not set up: call conexoos.framework.mail.init_mail(app) in middleware")
    return state


def _prune(settings: Settings) -> Callable[[], int]:
    from .retention import prune_outbox, retention  # retention declares the outbox table

    kept = retention(settings)

    def prune() -> int:
        pruned = prune_outbox(kept)
        if pruned:
            log.info("mail outbox: %d old sent or failed messages deleted", pruned)
        return pruned

    return prune


def _deliver() -> None:
    from .delivery import deliver_due  # delivery imports this module for the app's transport

    report = deliver_due()
    if report.sent or report.failed:
        log.info("mail outbox: %d sent, %d retrying, %d failed", report.sent, report.retrying, report.failed)
