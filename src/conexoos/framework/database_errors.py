"""What a failed database connection means, in words an operator can act on, for every driver we ship.

psycopg, PyMySQL, mysqlclient and sqlite3 each say "wrong password" or "nothing listens there" their own
way; :func:`database_cause` reads the driver's error (MySQL's error number first, then the message) and
says which it is, and whether waiting can help: a wrong password or a missing database stays wrong however
long one waits, a refused connection or an unknown host (a container not started yet) may not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from .redaction import REDACTED, Redactor, hidden_host


@dataclass(frozen=True)
class DatabaseCause:
    """Why a connection failed: ``summary`` in words, ``lasting`` when waiting will not help."""

    summary: str
    lasting: bool


WRONG_PASSWORD = DatabaseCause("wrong password or unknown user", True)
NO_DATABASE = DatabaseCause("the database does not exist", True)
REFUSED = DatabaseCause("connection refused: nothing listens there (is the server running?)", False)
UNKNOWN_HOST = DatabaseCause("unknown host: the name does not resolve", False)
NO_ANSWER = DatabaseCause("no answer: the connection timed out", False)
STARTING = DatabaseCause("the server is starting or stopping", False)
UNKNOWN = DatabaseCause("the connection failed", False)
STATEMENT_FAILED = DatabaseCause("a statement failed", False)
"""A query the server refused for a reason of its own (a table missing, a constraint): not the connection."""

MYSQL_CODES = {
    1044: DatabaseCause("the user may not use this database", True),
    1045: WRONG_PASSWORD,
    1049: NO_DATABASE,
    1040: DatabaseCause("too many connections", False),
    2005: UNKNOWN_HOST,
}
"""MySQL/MariaDB error numbers (PyMySQL and mysqlclient alike) that say the cause on their own; 2003
("can't connect") does not, its message is read as any other."""

MESSAGES: tuple[tuple[re.Pattern[str], DatabaseCause], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), cause)
    for pattern, cause in (
        (r"password authentication failed|access denied for user", WRONG_PASSWORD),
        (r"role \S+ does not exist", DatabaseCause("unknown user", True)),
        (r"no password supplied", DatabaseCause("the server asks for a password and none is set", True)),
        (r"no pg_hba\.conf entry", DatabaseCause("the server's pg_hba.conf refuses this client", True)),
        (r"database \S+ does not exist|unknown database", NO_DATABASE),
        (r"connection refused|errno 111\b", REFUSED),
        (
            r"resolve host|translate host name|name or service not known|nodename nor servname|"
            r"temporary failure in name resolution|unknown mysql server host",
            UNKNOWN_HOST,
        ),
        (r"timeout expired|timed out", NO_ANSWER),
        (r"starting up|shutting down|in recovery mode", STARTING),
        (r"too many (clients|connections)", DatabaseCause("too many connections", False)),
        (r"unable to open database file", DatabaseCause("the database file cannot be opened", True)),
        (r"database is locked", DatabaseCause("the database file is locked", False)),
    )
)
PSYCOPG_PREFIX = re.compile(
    r'^connection failed: connection to server at "[^"]*"(?: \([^)]*\))?, port \d+ failed: '
)
"""psycopg repeats the address the line already names: only what follows it is kept."""


def database_cause(error: DBAPIError) -> DatabaseCause:
    """What ``error`` (raised while connecting or querying) means; an unknown one is not lasting."""
    original = _original(error)
    code = original.args[0] if original.args and isinstance(original.args[0], int) else None
    known = MYSQL_CODES.get(code) if code is not None else None
    unknown = UNKNOWN if error.statement is None else STATEMENT_FAILED
    return known or message_cause(driver_reason(original)) or unknown


def message_cause(message: str) -> DatabaseCause | None:
    """The cause a driver's (or a socket's) message names, if it names one we know."""
    return next((cause for pattern, cause in MESSAGES if pattern.search(message)), None)


def driver_reason(error: BaseException) -> str:
    """The first line of the driver's message, spaces collapsed and psycopg's address prefix dropped."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    first = " ".join(lines[0].split()) if lines else type(error).__name__
    return PSYCOPG_PREFIX.sub("", first)


def describe_connection_error(error: DBAPIError, url: URL | None, name: str | None) -> str:
    """One line: the connection's name, driver and host:port, the cause in words and the driver's reason.

    The password never appears, even when the driver repeats it in its message.
    """
    cause = database_cause(error)
    reason = driver_reason(_original(error))
    if url is not None:
        reason = without_password(reason, url)
    text = cause.summary if reason.lower() in cause.summary.lower() else f"{cause.summary} ({reason})"
    if url is None:
        return text
    return f"{connection_label(url, name)}: {text}"


def without_password(reason: str, url: URL) -> str:
    """``reason`` (a driver's message) with the password of ``url`` hidden as the logs hide it: wherever it
    appears, or, one shorter than 4 characters, where its place says it is one (``password=``, a URL's):
    ``not`` stays a word of ``role "u" does not exist``. A host that may be part of the password (an
    ambiguous URL's, see :func:`_shown_host`) is hidden too."""
    if url.host and _shown_host(url) != url.host:
        reason = reason.replace(url.host, _shown_host(url))
    return Redactor([str(url.password)] if url.password else [])(reason)


DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306}
"""The port each server's driver connects to when the URL names none."""


def connection_label(url: URL, name: str | None) -> str:
    """``connection 'main' (postgresql at db.example.org:5432)``; a server's port is its driver's default
    when the URL names none; a SQLite connection shows its file."""
    default_port = DEFAULT_PORTS.get(url.get_backend_name())
    place = _server_place(url, default_port) if default_port else (url.database or "")
    named = f"connection {name!r}" if name else "connection"
    return f"{named} ({url.get_backend_name()} at {place})"


def _server_place(url: URL, default_port: int) -> str:
    """Where a server connection goes, as its driver reads the URL: each ``?host=`` (libpq's list, or the
    parameter repeated) with its port, an IPv6 address in brackets; with no host, PostgreSQL's Unix socket
    (libpq's default), any other server's localhost."""
    hosts = [_shown_host(url)] if url.host else _parameter_values(url, "host")
    ports = [str(url.port)] if url.port else _parameter_values(url, "port")
    postgresql = url.get_backend_name() == "postgresql"
    if not postgresql and _parameter_values(url, "unix_socket"):  # MySQL's drivers take the file over host
        return f"the Unix socket {_parameter_values(url, 'unix_socket')[0]}"
    if not hosts and postgresql:
        return f"the default Unix socket (port {ports[0] if ports else default_port})"
    hosts = hosts or ["localhost"]
    if len(ports) != len(hosts):  # libpq: one port for every host
        ports = [ports[0] if ports else str(default_port)] * len(hosts)
    return ", ".join(_place(host, port, postgresql) for host, port in zip(hosts, ports, strict=True))


def _shown_host(url: URL) -> str:
    """``url``'s host, or as much of it as cannot be part of the password: a URL whose password holds an
    ``@`` written as such (refused by the configuration) is split by SQLAlchemy at that ``@``, and the rest of
    the password is read as the host (``wor@d@127.0.0.1``: hidden before its last ``@``) or as the host and
    the database (``postgresql://u:p@ss/wd@db/x``: host ``ss``, database ``wd@db/x``: hidden whole)."""
    if url.password is not None and "@" in (url.database or ""):
        return REDACTED
    return hidden_host(str(url.host))


def _place(host: str, port: str, postgresql: bool) -> str:
    """One server address; a libpq host that is a folder (``/var/run/postgresql``) is its Unix socket's."""
    if postgresql and host.startswith(("/", "@")):
        return f"the Unix socket in {host} (port {port})"
    return f"{_bracketed(host)}:{port}"


def _parameter_values(url: URL, name: str) -> list[str]:
    """The values of the query parameter ``name``: repeated, or comma-separated as libpq takes a list."""
    value = url.query.get(name)
    values = [value] if isinstance(value, str) else list(value or ())
    return [part.strip() for text in values for part in text.split(",") if part.strip()]


def _bracketed(host: str) -> str:
    """``host``, an IPv6 address in brackets (``[::1]``) so that its port reads apart from it."""
    return f"[{host}]" if ":" in host and not host.startswith(("/", "[")) else host


def _original(error: DBAPIError) -> BaseException:
    return error.orig if error.orig is not None else error
