"""Socket.IO (Flask-SocketIO), with a Redis message queue when Redis is configured."""

from __future__ import annotations

from flask import Flask
from flask_socketio import SocketIO

from .config import Settings
from .services import Services

GREEN_WORKERS = ("eventlet", "gevent")


def create_socketio(app: Flask, settings: Settings, services: Services) -> SocketIO:
    """Attach a SocketIO server to ``app``; events emitted by any process reach every client via Redis."""
    worker = settings.server["WORKERS"]
    async_mode = worker if worker in GREEN_WORKERS else "threading"
    queue = services.redis_url if services.has("redis") else None
    # Sessions are server-side (Flask-Session), so Socket.IO reads the same session instead of copying it.
    return SocketIO(
        app,
        async_mode=async_mode,
        message_queue=queue,
        manage_session=False,
        logger=False,
        engineio_logger=False,
    )
