"""The tests' WebSocket client reads a frame that arrives in the same read as the handshake's answer
(as nginx sends them when it coalesces the upstream's writes)."""

from __future__ import annotations

import socket
import threading

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage

from tests.support.websocket import WebSocketClient


def serve_answer_and_frame_in_one_write(server: socket.socket, done: threading.Event) -> None:
    connection, _address = server.accept()
    with connection:
        protocol = WSConnection(ConnectionType.SERVER)
        while not any(isinstance(event, Request) for event in protocol.events()):
            protocol.receive_data(connection.recv(4096))
        connection.sendall(
            protocol.send(AcceptConnection()) + protocol.send(TextMessage(data='0{"sid":"s"}'))
        )
        done.wait(10)


def test_a_frame_sent_with_the_handshake_answer_is_received() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        done = threading.Event()
        thread = threading.Thread(
            target=serve_answer_and_frame_in_one_write, args=(server, done), daemon=True
        )
        thread.start()
        client = WebSocketClient.connect(f"ws://127.0.0.1:{server.getsockname()[1]}/")
        try:
            assert client.receive(timeout=5) == '0{"sid":"s"}'
        finally:
            client.close()
            done.set()
            thread.join(10)


def test_closing_after_the_server_closed_raises_nothing() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        done = threading.Event()
        done.set()  # the server answers, sends its frame and closes at once
        thread = threading.Thread(
            target=serve_answer_and_frame_in_one_write, args=(server, done), daemon=True
        )
        thread.start()
        client = WebSocketClient.connect(f"ws://127.0.0.1:{server.getsockname()[1]}/")
        thread.join(10)
        assert client.receive(timeout=5) == '0{"sid":"s"}'
        client.thread.join(5)  # the reader saw the end of the stream
        client.close()
        assert client.sock.fileno() == -1
