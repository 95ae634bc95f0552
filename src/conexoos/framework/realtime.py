"""Socket.IO (Flask-SocketIO), with a Redis message queue when Redis is configured.

The async mode follows the worker that serves the app: ``gevent`` inside a monkey-patched gevent worker
(``conexoos serve``'s default), ``threading`` anywhere else (``conexoos run``, tests). An Engine.IO
connection that joins no Socket.IO namespace within ``SERVER_ENV.SOCKETIO_JOIN_TIMEOUT`` seconds is
closed, so idle anonymous sockets cannot pile up.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any

from flask import Flask
from flask_socketio import SocketIO

from .config import Settings
from .services import Services

GREEN_WORKERS = ("eventlet", "gevent")
SWEEP_INTERVAL = 1.0
log = logging.getLogger("conexoos.realtime")


def create_socketio(app: Flask, settings: Settings, services: Services) -> SocketIO:
    """Attach a SocketIO server to ``app``; events emitted by any process reach every client via Redis."""
    queue = services.redis_url if services.has("redis") else None
    # Sessions are server-side (Flask-Session), so Socket.IO reads the same session instead of copying it.
    socketio = SocketIO(
        app,
        async_mode=async_mode(settings.server["WORKERS"]),
        message_queue=queue,
        manage_session=False,
        logger=False,
        engineio_logger=False,
    )
    timeout = settings.server.get("SOCKETIO_JOIN_TIMEOUT", 0)
    if timeout:
        JoinDeadline(socketio, float(timeout)).install()
    return socketio


def async_mode(worker: str) -> str:
    """``gevent`` or ``eventlet`` when this process runs monkey-patched under that worker, else threads."""
    if worker == "gevent" and _gevent_patched():
        return "gevent"
    if worker == "eventlet" and "eventlet" in sys.modules:
        return "eventlet"
    return "threading"


def _gevent_patched() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey is not None and monkey.is_module_patched("socket"))


class JoinDeadline:
    """Closes every Engine.IO connection that has joined no namespace ``timeout`` seconds after opening."""

    def __init__(self, socketio: SocketIO, timeout: float) -> None:
        self.socketio = socketio
        self.timeout = timeout
        self.deadlines: dict[str, float] = {}
        self._sweeper_started = False
        self._lock = threading.Lock()

    def install(self) -> None:
        """Wrap the Engine.IO connect handler so each new connection gets a deadline."""
        engine = self.socketio.server.eio
        original = engine.handlers["connect"]

        def on_connect(eio_sid: str, environ: dict[str, Any], *args: Any) -> Any:
            accepted = original(eio_sid, environ, *args)
            if accepted is not False:
                self.deadlines[eio_sid] = time.monotonic() + self.timeout
                self._start_sweeper()
            return accepted

        engine.on("connect", on_connect)

    def _start_sweeper(self) -> None:
        # Started by the first connection, so only a process that really serves sockets runs it.
        with self._lock:
            if self._sweeper_started:
                return
            self._sweeper_started = True
        self.socketio.start_background_task(self._sweep_forever)

    def _sweep_forever(self) -> None:
        while True:
            self.socketio.sleep(SWEEP_INTERVAL)
            self.sweep(time.monotonic())

    def sweep(self, now: float) -> list[str]:
        """Close the connections past their deadline that joined nothing; return their Engine.IO ids."""
        server = self.socketio.server
        closed = []
        for eio_sid, deadline in list(self.deadlines.items()):
            if eio_sid not in server.environ:  # already gone
                self.deadlines.pop(eio_sid, None)
            elif deadline <= now:
                self.deadlines.pop(eio_sid, None)
                if not self.joined(eio_sid):
                    server.eio.disconnect(eio_sid)
                    closed.append(eio_sid)
        if closed:
            log.info("closed %d Socket.IO connection(s) that joined no namespace", len(closed))
        return closed

    def joined(self, eio_sid: str) -> bool:
        """Whether the Engine.IO connection ``eio_sid`` is connected to any namespace."""
        manager = self.socketio.server.manager
        return any(manager.sid_from_eio_sid(eio_sid, name) for name in list(manager.get_namespaces()))
