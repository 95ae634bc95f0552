"""A small shared cache for rendered answers: values with a lifetime, and change marks.

A value is bytes under a key, kept for at most its ``ttl`` seconds. A *mark* is the time (seconds since the
epoch) something last changed; a cached value records when its data was read, and a reader that finds a
newer mark for it knows the value is stale. Marks make invalidation one write whatever the number of
values it ends (every page of a site, say), and need no list of the keys written.

Three stores, chosen by :func:`cache_store`: Redis or memcached when ``SERVICES`` has one (every worker
and every host shares it), else the worker's memory (bounded, least recently used first) with its marks in
files of the instance folder, so that the workers of one host still see each other's changes.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pymemcache.exceptions import MemcacheError
from redis.exceptions import RedisError

from .services import Services

if TYPE_CHECKING:
    from pymemcache.client.base import PooledClient
    from redis import Redis

MARK_LIFETIME = 30 * 24 * 3600
"""Seconds a mark is kept in Redis or memcached: longer than any value's lifetime, after which a lost mark
can no longer make a stale value look fresh."""


class CacheUnavailable(Exception):
    """The cache's server did not answer (Redis or memcached down or frozen); the cause is chained."""


class CacheStore(Protocol):
    """What a cache store does; every method raises :class:`CacheUnavailable` when the store is down."""

    def get(self, key: str) -> bytes | None:
        """The value under ``key``, or None when absent or expired."""

    def set(self, key: str, value: bytes, ttl: int) -> None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds."""

    def set_many(self, values: dict[str, bytes], ttl: int) -> None:
        """Keep each of ``values`` for ``ttl`` seconds (in one round trip)."""

    def marks(self, names: Sequence[str]) -> list[float]:
        """The time of the last change of each mark name, 0.0 for one never marked."""

    def mark(self, names: Sequence[str]) -> None:
        """Record that each of ``names`` changed now."""


class RedisStore:
    """Values and marks in Redis (``SERVICES.redis``)."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    def get(self, key: str) -> bytes | None:
        """The value under ``key``, or None."""
        try:
            value = self._client.get(self._prefix + key)
        except RedisError as error:
            raise CacheUnavailable(f"Redis did not answer a cache read: {error}") from error
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, ttl: int) -> None:
        """Keep ``value`` for ``ttl`` seconds."""
        try:
            self._client.set(self._prefix + key, value, ex=ttl)
        except RedisError as error:
            raise CacheUnavailable(f"Redis did not answer a cache write: {error}") from error

    def set_many(self, values: dict[str, bytes], ttl: int) -> None:
        """Keep each value for ``ttl`` seconds, in one round trip."""
        try:
            with self._client.pipeline(transaction=False) as pipe:
                for key, value in values.items():
                    pipe.set(self._prefix + key, value, ex=ttl)
                pipe.execute()
        except RedisError as error:
            raise CacheUnavailable(f"Redis did not answer a cache write: {error}") from error

    def marks(self, names: Sequence[str]) -> list[float]:
        """The marks, read in one round trip."""
        try:
            values = self._client.mget([self._prefix + "mark:" + name for name in names])
        except RedisError as error:
            raise CacheUnavailable(f"Redis did not answer a cache read: {error}") from error
        return [float(value) if value else 0.0 for value in values]

    def mark(self, names: Sequence[str]) -> None:
        """Set each mark to now, in one round trip."""
        now = repr(time.time())
        try:
            with self._client.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.set(self._prefix + "mark:" + name, now, ex=MARK_LIFETIME)
                pipe.execute()
        except RedisError as error:
            raise CacheUnavailable(f"Redis did not answer a cache write: {error}") from error


class MemcachedStore:
    """Values and marks in memcached (``SERVICES.memcached``)."""

    def __init__(self, client: PooledClient, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    def get(self, key: str) -> bytes | None:
        """The value under ``key``, or None."""
        try:
            value = self._client.get(self._prefix + key)
        except (MemcacheError, OSError) as error:
            raise CacheUnavailable(f"memcached did not answer a cache read: {error}") from error
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, ttl: int) -> None:
        """Keep ``value`` for ``ttl`` seconds."""
        try:
            self._client.set(self._prefix + key, value, expire=ttl)
        except (MemcacheError, OSError) as error:
            raise CacheUnavailable(f"memcached did not answer a cache write: {error}") from error

    def set_many(self, values: dict[str, bytes], ttl: int) -> None:
        """Keep each value for ``ttl`` seconds, in one round trip."""
        try:
            failed = self._client.set_many(
                {self._prefix + key: value for key, value in values.items()}, expire=ttl
            )
        except (MemcacheError, OSError) as error:
            raise CacheUnavailable(f"memcached did not answer a cache write: {error}") from error
        if failed:
            raise CacheUnavailable(f"memcached refused to keep {len(failed)} values (too large?)")

    def marks(self, names: Sequence[str]) -> list[float]:
        """The marks, read in one round trip."""
        keys = [self._prefix + "mark:" + name for name in names]
        try:
            found = self._client.get_many(keys)
        except (MemcacheError, OSError) as error:
            raise CacheUnavailable(f"memcached did not answer a cache read: {error}") from error
        return [float(found[key]) if key in found else 0.0 for key in keys]

    def mark(self, names: Sequence[str]) -> None:
        """Set each mark to now."""
        now = repr(time.time()).encode()
        try:
            values = {self._prefix + "mark:" + name: now for name in names}
            self._client.set_many(values, expire=MARK_LIFETIME)
        except (MemcacheError, OSError) as error:
            raise CacheUnavailable(f"memcached did not answer a cache write: {error}") from error


class MemoryStore:
    """Values in this process's memory (at most ``max_entries``, least recently used dropped first); marks
    as the modification times of files in ``folder``, shared by every worker of the host."""

    def __init__(self, folder: Path, max_entries: int) -> None:
        self._folder = folder
        self._max_entries = max_entries
        self._values: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """The value under ``key``, or None."""
        with self._lock:
            found = self._values.get(key)
            if found is None:
                return None
            if found[0] <= time.monotonic():
                del self._values[key]
                return None
            self._values.move_to_end(key)
            return found[1]

    def set(self, key: str, value: bytes, ttl: int) -> None:
        """Keep ``value`` for ``ttl`` seconds (dropping the least recently used value when full)."""
        with self._lock:
            self._values[key] = (time.monotonic() + ttl, value)
            self._values.move_to_end(key)
            while len(self._values) > self._max_entries:
                self._values.popitem(last=False)

    def set_many(self, values: dict[str, bytes], ttl: int) -> None:
        """Keep each value for ``ttl`` seconds."""
        for key, value in values.items():
            self.set(key, value, ttl)

    def __len__(self) -> int:
        return len(self._values)

    def marks(self, names: Sequence[str]) -> list[float]:
        """The modification time of each mark's file, 0.0 when it has none."""
        return [self._mark_time(name) for name in names]

    def _mark_time(self, name: str) -> float:
        try:
            return os.stat(os.path.join(self._folder, name)).st_mtime_ns / 1e9  # per hit: no Path made
        except FileNotFoundError:
            return 0.0
        except OSError as error:
            raise CacheUnavailable(f"cannot read the cache mark {self._folder / name}: {error}") from error

    def mark(self, names: Sequence[str]) -> None:
        """Set each mark's file time to now (exactly: an explicit time is not rounded to the clock tick)."""
        now = time.time_ns()
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            for name in names:
                path = self._folder / name
                path.touch()
                os.utime(path, ns=(now, now))
        except OSError as error:
            raise CacheUnavailable(f"cannot write the cache mark {self._folder}: {error}") from error


def cache_store(services: Services, instance_path: Path, prefix: str, max_entries: int) -> CacheStore:
    """Redis when ``SERVICES.redis`` is configured, else memcached when ``SERVICES.memcached`` is, else the
    worker's memory (marks under ``instance_path/cache_marks``). Keys start with ``prefix`` in shared stores.

    The shared stores use the session store's clients: short timeouts, so a cache that does not answer
    costs a request a fraction of a second, never the 5 s of the default clients."""
    if services.has("redis"):
        return RedisStore(services.session_redis, prefix)
    if services.has("memcached"):
        return MemcachedStore(services.session_memcached, prefix)
    return MemoryStore(instance_path / "cache_marks", max_entries)
