"""Socket.IO events: a logged-in owner's dashboard joins a room only that owner's sockets join."""

from __future__ import annotations

from flask_login import current_user
from flask_socketio import SocketIO, join_room

from conexoos.app.controllers.analytics import OWNER_ROOM


class Handler:
    """Registers the connection handlers on the framework's SocketIO server."""

    def __init__(self, socketio: SocketIO) -> None:
        socketio.on_event("connect", connect)


def connect(auth: object = None) -> bool:
    """Accept only logged-in users, each into their own room; anonymous sockets are refused."""
    if not current_user.is_authenticated:
        return False
    join_room(OWNER_ROOM.format(current_user.id))
    return True
