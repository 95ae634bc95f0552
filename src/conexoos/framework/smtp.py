"""``SERVICES.smtp`` as a typed object, its checks, and the SMTP connection the outbox sends through.

Kept apart from :mod:`conexoos.framework.mail` (the outbox, a model): validating a configuration must not
declare tables.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .database_errors import UNKNOWN_HOST, message_cause
from .errors import ConfigError
from .lazy import lazy_module

if TYPE_CHECKING:  # config.py imports this module to check SERVICES.smtp
    import smtplib

    from .config import Settings
    from .project import Project
else:
    smtplib = lazy_module("smtplib")  # at the first connection (or error told apart): 0.15 MiB a worker

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
_ADDRESS_FORBIDDEN = frozenset("\r\n\0")


@dataclass(frozen=True)
class SmtpSettings:
    """``SERVICES.smtp`` with its defaults resolved."""

    host: str
    port: int
    user: str
    password: str
    security: str
    sender: str
    timeout: int

    def describe(self) -> str:
        """``host:port (security)`` for messages; never the password."""
        return f"{self.host}:{self.port} ({self.security})"


def smtp_settings(settings: Settings) -> SmtpSettings | None:
    """The SMTP server to send through, or None when ``SERVICES.smtp.HOST`` is not set."""
    conf: dict[str, Any] = settings.services.get("smtp") or {}
    if not conf.get("HOST"):
        return None
    security = conf.get("SECURITY") or "starttls"
    return SmtpSettings(
        host=conf["HOST"],
        port=conf.get("PORT") or DEFAULT_PORTS[security],
        user=conf.get("USER") or "",
        password=conf.get("PASSWORD") or "",
        security=security,
        sender=conf.get("FROM") or default_sender(settings),
        timeout=conf.get("TIMEOUT") or 10,
    )


def default_sender(settings: Settings) -> str:
    """``APP_NAME <no-reply@host of PUBLIC_URL>`` (``localhost`` under DEV without a PUBLIC_URL)."""
    host = urlsplit(settings.server.get("PUBLIC_URL") or "").hostname or "localhost"
    return formataddr((settings.server["APP_NAME"], f"no-reply@{host}"))


def address_problem(value: str) -> str | None:
    """Why ``value`` is not one email address (``a@b.c`` or ``Name <a@b.c>``), or None."""
    if any(character in _ADDRESS_FORBIDDEN for character in value):
        return "it holds a line break or NUL"
    _name, address = parseaddr(value)
    local, _, domain = address.rpartition("@")
    if not local or not domain.strip(".") or " " in address:
        return "expected an address such as no-reply@example.org or Name <no-reply@example.org>"
    return None


def smtp_config_problems(services: dict[str, Any]) -> list[str]:
    """Mistakes in ``SERVICES.smtp`` that the key types cannot see (one line each)."""
    conf = services.get("smtp") or {}
    sender = conf.get("FROM") or ""
    problem = address_problem(sender) if sender else None
    problems = [f"SERVICES.smtp.FROM: {sender!r} is not valid; {problem}"] if problem else []
    if conf.get("USER") and not conf.get("HOST"):
        problems.append("SERVICES.smtp.USER: is set but HOST is empty; set SERVICES.smtp.HOST")
    return problems


def open_connection(smtp: SmtpSettings) -> smtplib.SMTP:
    """A connected, authenticated SMTP session; the server's certificate is verified for tls/starttls.

    Raises ``OSError`` (refused, timed out, TLS failure) or ``smtplib.SMTPException``.
    """
    context = ssl.create_default_context()
    if smtp.security == "tls":
        connection: smtplib.SMTP = smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=smtp.timeout, context=context
        )
    else:
        connection = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    try:
        if smtp.security == "starttls":
            connection.starttls(context=context)
        if smtp.user:
            connection.login(smtp.user, smtp.password)
    except BaseException:
        connection.close()
        raise
    return connection


def check_smtp_connection(settings: Settings) -> str | None:
    """Connect, say hello, log in and quit: the cause of the failure (see :func:`connection_problem`), or
    None when all worked.

    For ``config check --connect`` and operators; sends nothing. None too when SMTP is not configured.
    """
    smtp = smtp_settings(settings)
    if smtp is None:
        return None
    try:
        connection = open_connection(smtp)
        connection.noop()
        connection.quit()
    except (OSError, smtplib.SMTPException) as error:  # ssl.SSLError and socket.timeout are OSErrors
        return connection_problem(error, smtp.timeout)
    return None


def connection_problem(error: BaseException, timeout: float) -> str:
    """Why connecting or logging in to the SMTP server failed, in the words of the database and Redis
    lines of ``config check --connect`` (the caller names the server); never the password."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificate not trusted ({error.verify_message or error.reason})"
    if isinstance(error, ssl.SSLError):
        return f"TLS handshake failed: {error.reason or error}"
    if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):  # smtplib re-raises
        return f"no answer: timed out after {timeout:g} s"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return f"the server refused the login ({error.smtp_code} {_text(error.smtp_error)})"
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return f"the server does not offer it: {error}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"the server answered {error.smtp_code} {_text(error.smtp_error)}"
    if isinstance(error, socket.gaierror):  # whatever the resolver's words ("No address associated...")
        return UNKNOWN_HOST.summary
    cause = message_cause(str(error))
    return cause.summary if cause is not None else f"{type(error).__name__}: {error}"


def describe_smtp_error(error: BaseException) -> str:
    """One line naming the failure, e.g. ``SMTPRecipientsRefused: 550 no such user``; no password."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = "; ".join(
            f"{recipient}: {code} {_text(message)}" for recipient, (code, message) in error.recipients.items()
        )
        return f"SMTPRecipientsRefused: {codes}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{type(error).__name__}: {error.smtp_code} {_text(error.smtp_error)}"
    if isinstance(error, socket.timeout):
        return "timed out"
    return f"{type(error).__name__}: {error}"


def _text(message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return " ".join(text.split())


MAIL_FEATURES_HOOK = "mail_features"
"""Optional function in a project's ``server/config.py``: ``mail_features(tree) -> {feature: required}``,
the features that send mail under this configuration and whether the project cannot run without them."""


def mail_startup_warnings(settings: Settings, project: Project) -> list[str]:
    """Under UAT and PROD without SMTP: a warning naming the features whose mail will wait in the outbox,
    or a :class:`ConfigError` when one of them is required. Nothing under DEV (mail goes to files).

    Used by ``run``, ``serve`` and ``config check``.
    """
    if settings.is_development or smtp_settings(settings) is not None:
        return []
    features = _mail_features(settings, project)
    required = [name for name, needed in features.items() if needed]
    where = f"SERVICES.smtp: is not configured, and under {settings.env}"
    if required:
        raise ConfigError(
            [
                f"{where} {', '.join(required)} cannot work without mail: add SERVICES.smtp (HOST, PORT, "
                "SECURITY, USER, PASSWORD, FROM)"
            ]
        )
    if not features:
        return []
    return [
        f"{where} no mail is sent: {', '.join(features)} will wait in the outbox until SERVICES.smtp.HOST "
        "is set"
    ]


def _mail_features(settings: Settings, project: Project) -> dict[str, bool]:
    server = project.find_module(None, "server")
    module = project.import_part(server, "config") if server else None
    hook = getattr(module, MAIL_FEATURES_HOOK, None)
    return dict(hook(settings.tree)) if callable(hook) else {}
