"""Assertion ids already used, shared by every worker: a captured assertion is refused the second time.

With ``SERVICES.redis`` the ids are Redis keys that expire on their own (every host sees them). Without it
they are rows of a SQLite file in the instance folder (``saml-replay.sqlite``), shared by the workers of one
host; expired rows are deleted as new ones arrive. Several hosts without Redis do not see each other's ids.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path
from typing import Protocol

from redis import Redis
from redis.exceptions import RedisError

from .base import LoginUnavailable

UNAVAILABLE = "The login cannot be checked right now. Try again in a few minutes."


class ReplayStore(Protocol):
    """Remembers assertion ids until they expire."""

    def first_use(self, assertion_key: str, expires_at: float) -> bool:
        """Record ``assertion_key`` until ``expires_at`` (epoch seconds); False when it was already used.
        Raises :class:`LoginUnavailable` when the store cannot be reached."""
        ...


def assertion_key(issuer: str, assertion_id: str) -> str:
    """A fixed-length key for one assertion of one identity provider."""
    return hashlib.sha256(f"{issuer}\n{assertion_id}".encode()).hexdigest()


class RedisReplayStore:
    """Assertion ids as Redis keys with an expiry (``SET NX EXAT``)."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix + "saml:assertion:"

    def first_use(self, assertion_key: str, expires_at: float) -> bool:
        """See :meth:`ReplayStore.first_use`."""
        try:
            stored = self._client.set(self._prefix + assertion_key, b"1", nx=True, exat=int(expires_at) + 1)
        except RedisError as error:
            raise LoginUnavailable(UNAVAILABLE) from error
        return bool(stored)


class SqliteReplayStore:
    """Assertion ids as rows of a SQLite file; a primary key makes the first writer win across workers."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def first_use(self, assertion_key: str, expires_at: float) -> bool:
        """See :meth:`ReplayStore.first_use`."""
        try:
            return self._insert(assertion_key, expires_at)
        except sqlite3.IntegrityError:
            return False
        except sqlite3.Error as error:
            raise LoginUnavailable(UNAVAILABLE) from error

    def _insert(self, assertion_key: str, expires_at: float) -> bool:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self._path, timeout=5)
        try:
            with connection:
                connection.execute(
                    "CREATE TABLE IF NOT EXISTS used_assertion"
                    " (key TEXT PRIMARY KEY, expires_at REAL NOT NULL)"
                )
                connection.execute("DELETE FROM used_assertion WHERE expires_at < ?", (time.time(),))
                connection.execute("INSERT INTO used_assertion VALUES (?, ?)", (assertion_key, expires_at))
        finally:
            connection.close()
        return True
