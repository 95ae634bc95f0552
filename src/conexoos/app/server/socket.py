"""Socket.IO events: a logged-in owner's dashboard joins a room only that owner's sockets join, for as
long as the session it was opened in lasts (controllers/session_sockets.py)."""

from __future__ import annotations

from flask import current_app, request
from flask_login import current_user
from flask_socketio import SocketIO, join_room

from conexoos.app.controllers.analytics import OWNER_ROOM
from conexoos.app.controllers.session_sockets import EXTENSION, SessionSockets
from conexoos.app.controllers.user_sessions import current_row_id


class Handler:
    """Registers the connection handlers on the framework's SocketIO server."""

    def __init__(self, socketio: SocketIO) -> None:
        self.sockets = SessionSockets(socketio)
        socketio.on_event("connect", self.connect)
        socketio.on_event("disconnect", self.disconnect)

    def connect(self, auth: object = None) -> bool:
        """Accept only logged-in users, each into their own room; anonymous sockets are refused."""
        if not current_user.is_authenticated:
            return False
        row_id = current_row_id()
        if row_id is None:  # a session outside the registry cannot be ended: no live statistics for it
            return False
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        app.extensions[EXTENSION] = self.sockets
        self.sockets.opened(app, request.sid, row_id)  # type: ignore[attr-defined]
        join_room(OWNER_ROOM.format(current_user.id))
        return True

    def disconnect(self, reason: object = None) -> None:
        """Forget the socket."""
        self.sockets.closed(request.sid)  # type: ignore[attr-defined]
