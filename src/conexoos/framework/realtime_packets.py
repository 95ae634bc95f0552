"""Socket.IO packets from clients, read without trusting them.

python-socketio raises on a packet it cannot read (text that is no JSON, an unknown type, a
``CONNECT_ERROR`` only a server may send), and Engine.IO logs that as an error with its traceback, once
per packet: any visitor could fill the log. Here such a packet is one warning line, and it ends the
sender's Socket.IO connection (as the protocol asks of a peer that breaks it) by being read as that
client's ``DISCONNECT`` of the namespace it named (``/`` when it named none). The warning is written at
most once a minute (``log_throttle``): a client could still send one malformed packet after another.
"""

from __future__ import annotations

import logging
from typing import Any

from socketio import packet

from .log_throttle import ThrottledLog

log = logging.getLogger("conexoos.realtime")

CLIENT_TYPES = frozenset(
    {packet.CONNECT, packet.DISCONNECT, packet.EVENT, packet.ACK, packet.BINARY_EVENT, packet.BINARY_ACK}
)
"""The packet types a client may send."""
SHOWN_MAX = 80
"""Characters of a refused packet written to the log."""
BUILT_HERE: Any = object()
"""``encoded_packet`` not given: a packet the server builds to send, not one it received."""


class ClientPacket(packet.Packet):
    """:class:`socketio.packet.Packet` whose decoding of a malformed packet disconnects its sender. Use
    :func:`client_packets` for a server: its warnings are its own."""

    warnings = ThrottledLog(log)

    def __init__(self, *args: Any, encoded_packet: Any = BUILT_HERE, **kwargs: Any) -> None:
        received = encoded_packet is not BUILT_HERE
        readable = isinstance(encoded_packet, str | bytes) and bool(encoded_packet)
        super().__init__(*args, encoded_packet=encoded_packet if received and readable else None, **kwargs)
        if received and not readable:
            # Socket.IO decodes only a packet that is truthy, and takes any other for an EVENT without
            # data, whose handling failed with a traceback: an Engine.IO message "4" or "b" (empty), or
            # one Engine.IO read as JSON ("4null", "4[]", "4false", "4-1").
            self._malformed(encoded_packet, "it is empty" if not encoded_packet else "it is no text")

    def decode(self, encoded_packet: Any) -> int:
        """The number of binary attachments to come, as Socket.IO's own; a malformed packet becomes a
        ``DISCONNECT`` (and a warning)."""
        try:
            attachments = super().decode(encoded_packet)
        except (ValueError, TypeError, IndexError, RecursionError) as error:  # JSON errors are ValueErrors
            return self._malformed(encoded_packet, str(error) or type(error).__name__)
        if self.packet_type not in CLIENT_TYPES:
            return self._malformed(encoded_packet, f"type {self.packet_type!r} is not one a client sends")
        problem = self._shape_problem()
        if problem:
            return self._malformed(encoded_packet, problem)
        return int(attachments)

    def _shape_problem(self) -> str | None:
        """What Socket.IO's handlers would fail on in a packet that decoded (with a traceback, the client
        left connected): an event is a list that starts with its name; an acknowledgement is a list
        with the id it answers."""
        data: Any = self.data
        event = self.packet_type in (packet.EVENT, packet.BINARY_EVENT)
        if event and (not isinstance(data, list) or not data or not isinstance(data[0], str)):
            return "an event is a list that starts with its name"
        acknowledgement = self.packet_type in (packet.ACK, packet.BINARY_ACK)
        if acknowledgement and (not isinstance(data, list) or self.id is None):
            return "an acknowledgement is a list, with the id it answers"
        return None

    def _malformed(self, encoded_packet: Any, reason: str) -> int:
        shown = repr(encoded_packet[:SHOWN_MAX]) if isinstance(encoded_packet, str | bytes) else "?"
        self.warnings.warning(
            "Socket.IO: a client's packet is malformed (%s): %s; it is disconnected", reason, shown
        )
        named: Any = getattr(self, "namespace", None)  # set by decoding, if it got that far
        namespace = named if isinstance(named, str) else None
        self.packet_type, self.namespace, self.data, self.id = packet.DISCONNECT, namespace, None, None
        return 0


def client_packets() -> type[ClientPacket]:
    """A :class:`ClientPacket` class of its own (a Socket.IO server takes a class), whose warning about a
    malformed packet is written at most once a minute, however many a client sends."""
    return type("ClientPacket", (ClientPacket,), {"warnings": ThrottledLog(log)})
