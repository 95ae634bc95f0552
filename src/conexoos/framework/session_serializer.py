"""Flask-Session's serializer made at a server session's first read or write, not with the store.

Flask-Session makes its msgspec encoder and decoders when the session interface is made, at app creation,
and so loads msgspec's compiled extension (0.5 MiB) in every worker. An anonymous visitor's session is a
signed cookie that never reaches the store (``sessions.py``), so a worker serving public pages needs
neither until a logged-in request comes.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from flask_session import base

FORMATS = ("msgpack", "json")
"""The serialization formats Flask-Session's ``MsgSpecSerializer`` accepts."""


class LazySerializer(base.Serializer):
    """Flask-Session's ``MsgSpecSerializer``, made at the first encode or decode. An unknown format is
    the same ValueError, at once."""

    eager: type[base.MsgSpecSerializer] = base.MsgSpecSerializer
    """Flask-Session's own serializer, the one this makes (kept before :func:`install_lazy_serializer`
    puts this class in its place)."""

    def __init__(self, app: Flask, format: str) -> None:  # format: Flask-Session calls it by that keyword
        if format not in FORMATS:
            raise ValueError(f"Unsupported serialization format: {format}")
        self.app = app
        self.format = format
        self._made: base.MsgSpecSerializer | None = None
        self._lock = threading.Lock()

    def encode(self, session: base.ServerSideSession) -> bytes:
        """The session's data serialized, as Flask-Session's serializer gives it."""
        encoded: bytes = self.serializer().encode(session)
        return encoded

    def decode(self, serialized_data: bytes) -> dict[str, Any]:
        """Data serialized by Flask-Session's serializer (in either format, or pickled by older versions)."""
        decoded: dict[str, Any] = self.serializer().decode(serialized_data)
        return decoded

    def serializer(self) -> base.MsgSpecSerializer:
        """Flask-Session's serializer, made once (threads of a worker may ask at the same time)."""
        if self._made is None:
            with self._lock:
                if self._made is None:
                    self._made = self.eager(app=self.app, format=self.format)
        return self._made


def install_lazy_serializer() -> None:
    """Have Flask-Session's session interfaces made from now on use :class:`LazySerializer` (which
    ``ServerSideSessionInterface.__init__`` makes by the name ``MsgSpecSerializer``)."""
    base.MsgSpecSerializer = LazySerializer
