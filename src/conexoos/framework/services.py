"""Clients for the entries of ``SERVICES``, created lazily so that each process opens its own."""

from __future__ import annotations

from functools import cached_property
from typing import Any
from urllib.parse import quote

import redis
from pymemcache.client.base import PooledClient

from .config import Settings
from .errors import ConexoosError, ConfigError

STARTUP_PING_TIMEOUT = 2.0
"""Seconds ``run`` and ``serve`` wait for Redis to answer a PING before they warn (or refuse)."""


class ServiceUnreachable(ConexoosError):
    """A service the configuration cannot do without does not answer at start-up."""


def redis_startup_warnings(settings: Settings) -> list[str]:
    """Ping SERVICES.redis once before serving: [] when it answers or is not configured.

    Otherwise one warning naming ``host:port`` and what runs without it; with ``SESSION: redis`` nobody
    could log in, so :class:`ServiceUnreachable` is raised instead.
    """
    if "redis" not in settings.services:
        return []
    conf = settings.services["redis"]
    client = redis.Redis(
        host=conf["HOST"],
        port=conf["PORT"],
        db=conf["DB"],
        password=conf["PASSWORD"] or None,
        socket_connect_timeout=STARTUP_PING_TIMEOUT,
        socket_timeout=STARTUP_PING_TIMEOUT,
    )
    try:
        client.ping()
    except redis.RedisError as error:
        reason = f"{type(error).__name__}: {error}"
        where = f"SERVICES.redis: {conf['HOST']}:{conf['PORT']} does not answer ({reason})"
        if settings.server["SESSION"] == "redis":
            raise ServiceUnreachable(
                f"{where}; SESSION: redis keeps the sessions there, so nobody could log in: start Redis "
                "or choose another SERVER_ENV.SESSION"
            ) from error
        return [
            f"{where}: Socket.IO has no message queue between workers, and rate limits are counted in "
            "each process's memory until it answers"
        ]
    finally:
        client.close()
    return []


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
    def redis(self) -> redis.Redis:
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
    def memcached(self) -> PooledClient:
        """A pooled memcached client."""
        conf = self._require("memcached")
        return PooledClient((conf["HOST"], conf["PORT"]), connect_timeout=5, timeout=5, max_pool_size=32)

    def _require(self, name: str) -> dict[str, Any]:
        if name not in self._settings.services:
            raise ConfigError([f"SERVICES.{name}: is not configured; add SERVICES.{name}.HOST and PORT"])
        return self._settings.services[name]
