"""Where sent messages go: an SMTP server, or (DEV without SMTP) the log and ``instance/mail/*.eml``."""

from __future__ import annotations

import logging
from email import message_from_string
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..lazy import lazy_module
from ..smtp import SmtpSettings, open_connection
from .message import envelope_sender

if TYPE_CHECKING:
    import smtplib
    from email import policy
else:
    policy = lazy_module("email.policy")  # read at the first message written to a file
    smtplib = lazy_module("smtplib")  # at the first message sent (or error caught): 0.15 MiB a worker

log = logging.getLogger("conexoos.mail")


class Transport(Protocol):
    """Sends one whole message; raises ``OSError`` or ``smtplib.SMTPException`` when it cannot."""

    def send(self, raw: str, recipient: str, reference: str) -> None: ...

    def close(self) -> None: ...


class SmtpTransport:
    """One SMTP session for a batch of messages, opened at the first message and closed by :meth:`close`."""

    def __init__(self, smtp: SmtpSettings) -> None:
        self.smtp = smtp
        self._connection: smtplib.SMTP | None = None

    def send(self, raw: str, recipient: str, reference: str) -> None:
        """Send ``raw`` to ``recipient``; a failed session is dropped so the next message opens a new one."""
        parsed = _parse(raw)
        if self._connection is None:
            self._connection = open_connection(self.smtp)
        try:
            self._connection.sendmail(envelope_sender(parsed), [recipient], raw.encode("ascii"))
        except (OSError, smtplib.SMTPServerDisconnected):
            self._drop()
            raise

    def close(self) -> None:
        """Say QUIT (or just close a session the server already dropped)."""
        if self._connection is None:
            return
        try:
            self._connection.quit()
        except (OSError, smtplib.SMTPException):
            self._drop()
        self._connection = None

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection = None


class FileTransport:
    """DEV without ``SERVICES.smtp``: each message becomes ``<folder>/<reference>.eml`` and a log line with
    its text part, so links in mail can be followed on a machine with no mail server."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, raw: str, recipient: str, reference: str) -> None:
        """Write the message as an ``.eml`` file and log its subject, recipient and text."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{reference}.eml"
        path.write_text(raw, encoding="ascii", newline="")
        parsed = _parse(raw)
        body = parsed.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        log.info("mail to %s (%s), written to %s:\n%s", recipient, parsed["Subject"], path, text)

    def close(self) -> None:
        """Nothing to close."""


def _parse(raw: str) -> EmailMessage:
    parsed = message_from_string(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)  # policy.default always builds EmailMessage
    return parsed
