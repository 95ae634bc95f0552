"""A WebSocket client for tests that does not lose the frames sent right after the handshake.

simple_websocket's ``Client`` reads the server's 101 answer, takes the first event from wsproto and
leaves any frame that arrived in the same read in wsproto's buffer, unprocessed until the next read.
A server (or nginx in front of it, which coalesces what it reads from the upstream) that sends the
Engine.IO open packet together with the 101 then seems silent: the client waits for a packet it
already has. Under load this happened in CI; ``WebSocketClient`` processes those frames at once.
"""

from __future__ import annotations

import simple_websocket


class WebSocketClient(simple_websocket.Client):
    def handshake(self) -> None:
        super().handshake()
        self.connected = self._handle_events()  # frames that came in the handshake's read

    def close(self, reason: int | None = None, message: str | None = None) -> None:
        """Close the connection, also when the server has closed it first: the reader thread then marks it
        closed and closes the socket, and simple_websocket's ``close`` would raise ``ConnectionClosed`` or,
        racing that thread, EBADF from sending the close frame on the closed socket."""
        try:
            super().close(reason=reason, message=message)
        except (simple_websocket.ConnectionClosed, OSError):
            self.sock.close()  # the server went first: nothing is left to say to it
