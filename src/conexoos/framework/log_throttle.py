"""A log line that anyone can cause (a malformed packet, an unreadable request) is written at most once a
while: the lines left out meanwhile are counted, and the next line says how many there were."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

EVERY_SECONDS = 60.0


class ThrottledLog:
    """Writes through ``logger`` at most once every ``seconds``; counts the lines it leaves out."""

    def __init__(self, logger: logging.Logger, seconds: float = EVERY_SECONDS) -> None:
        self._logger = logger
        self._seconds = seconds
        self._lock = threading.Lock()
        self._last = -seconds
        self._left_out = 0

    def warning(self, message: str, *args: Any) -> None:
        """Log ``message % args`` at WARNING, unless a line was written less than ``seconds`` ago."""
        self._write(logging.WARNING, message, args)

    def info(self, message: str, *args: Any) -> None:
        """Log ``message % args`` at INFO, unless a line was written less than ``seconds`` ago."""
        self._write(logging.INFO, message, args)

    def _write(self, level: int, message: str, args: tuple[Any, ...]) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < self._seconds:
                self._left_out += 1
                return
            left_out, self._left_out, self._last = self._left_out, 0, now
        more = f" ({left_out} more like it in the last {self._seconds:g} s not logged)" if left_out else ""
        self._logger.log(level, message + "%s", *args, more)
