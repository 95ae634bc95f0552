"""Clients for the entries of ``SERVICES``, created lazily so that each process opens its own."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

from .config import Settings
from .errors import ConfigError

if TYPE_CHECKING:
    from pymemcache.client.base import PooledClient
    from redis import Redis  # at run time redis.Redis, read when a client is made

RETRY_ONCE_ON_CLOSED = Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))
"""Redis retry policy for requests: once, at once, when a connection was closed or refused; redis-py's own
default (three retries with back-off of seconds) made every request wait 8 s while Redis was down."""
SESSION_STORE_TIMEOUT = 0.3
"""Seconds a session read or write may wait for Redis or memcached (to connect, then to answer): a healthy
store answers in a millisecond, and a request must learn within a second that the store is down (503)."""
PROBE_TIMEOUT = 0.5
"""Seconds the /readyz Redis ping may wait (to connect, then to answer), without a retry: a probe polled
with a 1 s timeout must get the answer ``redis: down``, not a timeout of its own."""
NO_RETRY = Retry(NoBackoff(), 0)


class Services:
    """The ``SERVICES`` section with ready clients for the ones the framework knows."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def config(self, name: str) -> dict[str, Any]:
        """The settings of service ``name`` (an empty dict when it is not configured)."""
        return dict(self._settings.services.get(name, {}))

    def has(self, name: str) -> bool:
        """Whether ``SERVICES.<name>`` is configured."""
        return name in self._settings.services

    @property
    def redis_url(self) -> str:
        """A ``redis://`` URL for libraries that take one (Socket.IO queue, rate limits)."""
        conf = self._require("redis")
        auth = f":{quote(conf['PASSWORD'], safe='')}@" if conf["PASSWORD"] else ""
        return f"redis://{auth}{conf['HOST']}:{conf['PORT']}/{conf['DB']}"

    @cached_property
    def redis(self) -> Redis:
        """A Redis client (connection-pooled, thread-safe)."""
        conf = self._require("redis")
        return redis.Redis(
            host=conf["HOST"],
            port=conf["PORT"],
            db=conf["DB"],
            password=conf["PASSWORD"] or None,
            socket_timeout=5,
            health_check_interval=30,
        )

    @cached_property
    def probe_redis(self) -> Redis:
        """The Redis client of /readyz: PROBE_TIMEOUT to connect and to answer, never a retry."""
        return self._short_redis(PROBE_TIMEOUT, NO_RETRY)

    @cached_property
    def memcached(self) -> PooledClient:
        """A pooled memcached client. Every write waits for memcached's answer (pymemcache's default is
        ``noreply``: a write that was lost or refused would pass unnoticed, and a read right after it on
        another connection could miss it)."""
        conf = self._require("memcached")
        from pymemcache.client.base import PooledClient  # here: a site without memcached never loads it

        return PooledClient(
            (conf["HOST"], conf["PORT"]),
            connect_timeout=5,
            timeout=5,
            max_pool_size=32,
            default_noreply=False,
        )

    @cached_property
    def session_redis(self) -> Redis:
        """The Redis client of the session store: short timeouts, and one immediate retry on a closed or
        refused connection only (a pooled connection that a Redis restart closed is replaced), never on a
        timeout: a request learns within SESSION_STORE_TIMEOUT that a frozen Redis does not answer."""
        return self._short_redis(SESSION_STORE_TIMEOUT, RETRY_ONCE_ON_CLOSED, health_check_interval=30)

    def _short_redis(self, timeout: float, retry: Retry, **options: Any) -> Redis:
        """A client of SERVICES.redis that waits at most ``timeout`` to connect and to answer."""
        conf = self._require("redis")
        return redis.Redis(
            host=conf["HOST"],
            port=conf["PORT"],
            db=conf["DB"],
            password=conf["PASSWORD"] or None,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=retry,
            **options,
        )

    @cached_property
    def session_memcached(self) -> PooledClient:
        """The memcached client of the session store, with SESSION_STORE_TIMEOUT to connect and to answer."""
        conf = self._require("memcached")
        from pymemcache.client.base import PooledClient  # here: a site without memcached never loads it

        return PooledClient(
            (conf["HOST"], conf["PORT"]),
            connect_timeout=SESSION_STORE_TIMEOUT,
            timeout=SESSION_STORE_TIMEOUT,
            max_pool_size=32,
            default_noreply=False,  # a session write that memcached refused must fail the request, not vanish
        )

    def _require(self, name: str) -> dict[str, Any]:
        if name not in self._settings.services:
            raise ConfigError([f"SERVICES.{name}: is not configured; add SERVICES.{name}.HOST and PORT"])
        return self._settings.services[name]
