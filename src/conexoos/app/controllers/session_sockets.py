"""Owners' dashboard sockets end with the session they were opened in.

A socket is a connection, not a request: after a logout, "log out everywhere", a password change or reset,
a suspension or a deletion ends its session, an open dashboard socket would go on receiving its owner's
live statistics. Each process keeps, for the sockets it holds, the session registry row each was opened
in (``controllers/user_sessions.py``), and every :data:`SWEEP_SECONDS` disconnects those whose row is
gone (one query for all of them). The sweep starts with the first socket, so only a process that serves
sockets runs it.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask
from flask_socketio import SocketIO
from sqlalchemy import select

from conexoos.app.models.persistent import UserSession
from conexoos.framework import db

SWEEP_SECONDS = 10.0
EXTENSION = "conexoos.session_sockets"
log = logging.getLogger("conexoos.realtime")


class SessionSockets:
    """The sockets of this process and their sessions' registry rows."""

    def __init__(self, socketio: SocketIO) -> None:
        self.socketio = socketio
        self.rows: dict[str, int] = {}
        self._lock = threading.Lock()
        self._app: Flask | None = None

    def opened(self, app: Flask, sid: str, row_id: int) -> None:
        """Note the socket ``sid`` opened in the session of registry row ``row_id``."""
        self.rows[sid] = row_id
        with self._lock:
            start = self._app is None
            self._app = app
        if start:
            self.socketio.start_background_task(self._sweep_forever)

    def closed(self, sid: str) -> None:
        """Forget the socket ``sid`` (disconnected)."""
        self.rows.pop(sid, None)

    def sweep(self) -> list[str]:
        """Disconnect the sockets whose session ended; their ids. Inside an app context."""
        watched = dict(self.rows)
        if not watched:
            return []
        query = select(UserSession.id).where(UserSession.id.in_(set(watched.values())))
        alive = set(db.session.scalars(query))
        db.session.rollback()  # nothing to keep: the next sweep reads afresh
        ended = [sid for sid, row in watched.items() if row not in alive]
        for sid in ended:
            self.rows.pop(sid, None)
            self.socketio.server.disconnect(sid, namespace="/")
        if ended:
            log.info("disconnected %d socket(s) whose session ended", len(ended))
        return ended

    def _sweep_forever(self) -> None:
        while True:
            self.socketio.sleep(SWEEP_SECONDS)
            app = self._app
            if app is None:
                continue
            try:
                with app.app_context():
                    self.sweep()
            except Exception:  # a database outage: the next sweep tries again
                log.warning("the sweep of ended sessions' sockets failed", exc_info=True)
