"""Trying every connection the configuration names: ``conexoos config check --connect`` and start-up.

Each check takes the validated :class:`Settings` and returns None when the service answered, else the
cause in words (one line, no secret). The framework checks each database, ``SERVICES.redis`` and
``SERVICES.memcached``; anything else (SMTP, LDAP, an identity provider's discovery document) plugs in with
:func:`register_connect_check`, from the module that owns it, e.g. in a project's ``server/config.py``::

    register_connect_check("SERVICES.smtp", check_smtp_connection, applies=lambda s: "smtp" in s.services)
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis
from pymemcache.exceptions import MemcacheError
from redis.backoff import NoBackoff
from redis.retry import Retry

from .causes import one_line_cause
from .config import DatabaseSettings, Settings
from .database_errors import (
    connection_label,
    database_cause,
    driver_reason,
    message_cause,
    without_password,
)
from .smtp import check_smtp_connection, smtp_settings
from .startup import try_connection
from .storage.s3 import bucket_problem

CHECK_TIMEOUT = 3.0
"""Seconds one check may wait for its service."""
SESSIONS_THERE = "SESSION: {session} keeps the sessions there, so logging in and signed-in pages answer 503"
ConnectCheck = Callable[[Settings], "str | None"]
log = logging.getLogger("conexoos.connect_checks")


@dataclass(frozen=True)
class RegisteredCheck:
    """A check added by a module the framework does not know, shown under ``name``."""

    name: str
    check: ConnectCheck
    applies: Callable[[Settings], bool]


@dataclass(frozen=True)
class CheckResult:
    """One line of ``config check --connect``: what was tried, None or the cause of its failure, and a
    note shown after ``ok`` (e.g. a SQLite file that will be created)."""

    name: str
    problem: str | None
    note: str | None = None

    def line(self) -> str:
        """``NAME: ok``, ``NAME: ok (note)`` or ``NAME: FAILED: cause``."""
        if self.problem is not None:
            return f"{self.name}: FAILED: {self.problem}"
        return f"{self.name}: ok ({self.note})" if self.note else f"{self.name}: ok"


_registered: dict[str, RegisteredCheck] = {}


def register_connect_check(
    name: str, check: ConnectCheck, applies: Callable[[Settings], bool] = lambda _settings: True
) -> None:
    """Add (or replace, by ``name``) a check run by ``config check --connect`` when ``applies`` says so."""
    _registered[name] = RegisteredCheck(name, check, applies)


def run_connect_checks(settings: Settings) -> list[CheckResult]:
    """Try every database, Redis, memcached, SMTP server and the S3 media store when configured, then every
    registered check that applies."""
    results = [
        CheckResult(_database_name(db), check_database(db), _sqlite_note(db))
        for db in settings.databases.values()
    ]
    if "redis" in settings.services:
        results.append(CheckResult(service_name(settings, "redis"), check_redis(settings)))
    if "memcached" in settings.services:
        results.append(CheckResult(service_name(settings, "memcached"), check_memcached(settings)))
    smtp = smtp_settings(settings)
    if smtp is not None:
        name = f"SERVICES.smtp ({smtp.host}:{smtp.port}, {smtp.security})"
        results.append(CheckResult(name, check_smtp_connection(settings)))
    if settings.tree["SERVER_ENV"]["MEDIA"]["BACKEND"] == "s3":
        results.append(CheckResult(s3_name(settings), check_s3(settings)))
    for registered in list(_registered.values()):
        if registered.applies(settings):
            results.append(CheckResult(registered.name, _run_registered(registered, settings)))
    return results


def service_name(settings: Settings, service: str) -> str:
    """``SERVICES.redis (host:port)``."""
    conf = settings.services[service]
    return f"SERVICES.{service} ({conf['HOST']}:{conf['PORT']})"


def s3_name(settings: Settings) -> str:
    """``SERVICES.s3 (endpoint, bucket)``."""
    conf = settings.services.get("s3") or {}
    return f"SERVICES.s3 ({conf.get('ENDPOINT_URL') or 'AWS'}, {conf.get('BUCKET') or ''})"


def check_s3(settings: Settings) -> str | None:
    """HEAD the media bucket of ``SERVICES.s3`` once, with short timeouts and no retry."""
    return bucket_problem(settings.services.get("s3") or {}, CHECK_TIMEOUT)


def check_database(database: DatabaseSettings) -> str | None:
    """Connect and ``SELECT 1``; a SQLite file that does not exist yet is not created (``run`` will create it,
    and its folders): then its nearest existing folder must be a folder this process may write in. An
    existing one must be a database, and one this process can write unless the connection is readonly
    (:mod:`sqlite_files`)."""
    url = database.url
    file = _new_sqlite_file(database)
    if file is not None:
        return _creatable_problem(file)
    error = try_connection(url, int(CHECK_TIMEOUT))
    if error is None:
        from .sqlite_files import sqlite_file_problem  # here: sqlite3 is no PostgreSQL worker's

        return sqlite_file_problem(database)
    reason = without_password(driver_reason(error.orig if error.orig is not None else error), url)
    return f"{database_cause(error).summary} ({reason})"


def _new_sqlite_file(database: DatabaseSettings) -> Path | None:
    """The SQLite file of ``database`` when it does not exist yet, else None."""
    url = database.url
    file = Path(str(url.database or ":memory:"))
    if url.get_backend_name() != "sqlite" or str(file) == ":memory:" or file.exists():
        return None
    return file


def _sqlite_note(database: DatabaseSettings) -> str | None:
    return None if _new_sqlite_file(database) is None else "the file will be created"


def _creatable_problem(file: Path) -> str | None:
    """None when ``file`` and its missing folders can be created, else why not."""
    folder = file.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return f"the folder of {str(file)!r} cannot be created: {str(folder)!r} is not a folder"
    try:  # a real try: root passes os.access anywhere, and a read-only mount or /proc passes it too
        handle, probe = tempfile.mkstemp(prefix=".conexoos-check-", dir=folder)
    except OSError as error:
        return f"{str(file)!r} cannot be created: {str(folder)!r} takes no new file ({error.strerror})"
    os.close(handle)
    os.unlink(probe)
    return None


def check_redis(settings: Settings) -> str | None:
    """PING ``SERVICES.redis`` once, with short timeouts and no retry."""
    conf = settings.services["redis"]
    client = redis.Redis(
        host=conf["HOST"],
        port=conf["PORT"],
        db=conf["DB"],
        password=conf["PASSWORD"] or None,
        socket_connect_timeout=CHECK_TIMEOUT,
        socket_timeout=CHECK_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        client.ping()
    except redis.AuthenticationError as error:
        return f"wrong password ({error})"
    except redis.RedisError as error:
        return network_cause(error)
    finally:
        client.close()
    return None


def check_memcached(settings: Settings) -> str | None:
    """Ask ``SERVICES.memcached`` for its version once, with short timeouts."""
    conf = settings.services["memcached"]
    address = (conf["HOST"], conf["PORT"])
    from pymemcache.client.base import Client as MemcacheClient  # here: only `config check --connect`

    client = MemcacheClient(address, connect_timeout=CHECK_TIMEOUT, timeout=CHECK_TIMEOUT)
    try:
        client.version()
    except (MemcacheError, OSError) as error:
        return network_cause(error)
    finally:
        client.close()
    return None


def network_cause(error: BaseException) -> str:
    """A socket-level failure in words (refused, unknown host, timed out), with the library's message."""
    message = " ".join(str(error).split()) or type(error).__name__
    cause = message_cause(message)
    if cause is None and isinstance(error, (TimeoutError, redis.TimeoutError)):
        cause = message_cause("timed out")  # redis-py's "Timeout reading from socket", a bare timeout
    return f"{cause.summary} ({message})" if cause else one_line_cause(error)


def _run_registered(registered: RegisteredCheck, settings: Settings) -> str | None:
    try:
        return registered.check(settings)
    except Exception as error:  # a plug-in's bug must not hide the other checks' results
        log.warning("connect check %s raised", registered.name, exc_info=error)
        return f"the check itself failed: {type(error).__name__}: {error}"


def _database_name(database: DatabaseSettings) -> str:
    return f"database {connection_label(database.url, database.name)}"


def startup_warnings(settings: Settings) -> list[str]:
    """Before serving: one warning per configured Redis or memcached that does not answer.

    Start-up goes on (public pages and click redirects need neither); what cannot work until it answers
    is said in the line, and each part recovers on its own once it does.
    """
    warnings = []
    session = settings.server["SESSION"]
    if "redis" in settings.services:
        problem = check_redis(settings)
        if problem:
            effects = (
                "Socket.IO has no message queue between workers, and rate limits are counted in each "
                "process's memory"
            )
            if session == "redis":
                effects += f"; {SESSIONS_THERE.format(session='redis')}"
            warnings.append(f"{_unanswered(settings, 'redis', problem)}: {effects} until it answers")
    if "memcached" in settings.services and session == "memcached":
        problem = check_memcached(settings)
        if problem:
            warnings.append(
                f"{_unanswered(settings, 'memcached', problem)}: "
                f"{SESSIONS_THERE.format(session='memcached')} until it answers"
            )
    return warnings


def _unanswered(settings: Settings, service: str, problem: str) -> str:
    conf = settings.services[service]
    return f"SERVICES.{service}: {conf['HOST']}:{conf['PORT']} does not answer ({problem})"
