"""The Socket.IO message queue across processes and hosts: python-socketio's Redis manager, quieter.

A module of its own so that redis-py is imported only by a server that has Redis configured."""

from __future__ import annotations

import logging
import threading
from typing import Any

import socketio

log = logging.getLogger("conexoos.realtime")


class QuietRedisManager(socketio.RedisManager):
    """python-socketio's Redis queue, publishing with one attempt and one log line per outage.

    Its own ``_publish`` tries twice and logs both failures: with Redis down, every request that emits a
    live event (a page view, a click) wrote two error lines. Here the first failure of an outage is logged
    with its cause, later ones are only counted, and the recovery is logged with that count. A live event
    lost while Redis is down is lost (it is a hint to refresh a chart, not data)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._failures = 0
        self._failures_lock = threading.Lock()

    def _publish(self, data: Any) -> Any:
        try:
            if not self.connected:  # type: ignore[has-type]
                self._redis_connect()
            result = self.redis.publish(self.channel, self.json.dumps(data))
        except Exception as error:  # noqa: BLE001 (any Redis fault: the event is dropped, the request goes on)
            self.connected = False
            self._failed(error)
            return None
        self._recovered()
        return result

    def _failed(self, error: Exception) -> None:
        with self._failures_lock:
            self._failures += 1
            first = self._failures == 1
        if first:
            log.error(
                "live events: cannot publish to Redis (%s: %s); dropping them until it answers again",
                type(error).__name__,
                " ".join(str(error).split()),
            )

    def _recovered(self) -> None:
        if not self._failures:
            return
        with self._failures_lock:
            dropped, self._failures = self._failures, 0
        if dropped:
            log.warning("live events: Redis answers again; %d event(s) were dropped meanwhile", dropped)
