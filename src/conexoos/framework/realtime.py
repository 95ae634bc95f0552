"""Socket.IO (Flask-SocketIO), with a Redis message queue when Redis is configured.

The async mode follows the worker that serves the app: ``gevent`` inside a monkey-patched gevent worker
(``conexoos serve``'s default), ``threading`` anywhere else (``conexoos run``, tests). An Engine.IO
connection that joins no Socket.IO namespace within ``SERVER_ENV.SOCKETIO_JOIN_TIMEOUT`` seconds is
closed, down to its TCP connection, so idle anonymous sockets cannot pile up.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from engineio.payload import Payload
from flask import Flask, request
from flask_socketio import SocketIO
from socketio.manager import Manager

from .config import Settings
from .log_throttle import ThrottledLog
from .logs import escape_control
from .realtime_packets import client_packets
from .services import RETRY_ONCE_ON_CLOSED, Services

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from .realtime_queue import QuietRedisManager

GREEN_WORKERS = ("eventlet", "gevent")
CHANNEL = "flask-socketio"
"""Flask-SocketIO's default channel name, kept so that every worker (of any version) shares it."""
PUBLISH_TIMEOUT = 0.3
SWEEP_INTERVAL = 1.0
CLOSE_GRACE = 1.0  # seconds a client has to answer the close frame before its TCP connection is shut
log = logging.getLogger("conexoos.realtime")


def create_socketio(app: Flask, settings: Settings, services: Services) -> SocketIO:
    """Attach a SocketIO server to ``app``; events emitted by any process reach every client via Redis."""
    queue = _redis_queue(services) if services.has("redis") else None
    # Sessions are server-side (Flask-Session), so Socket.IO reads the same session instead of copying it.
    socketio = SocketIO(
        app,
        async_mode=async_mode(settings.server["WORKERS"]),
        **({"client_manager": queue} if queue else {}),
        manage_session=False,
        serializer=client_packets(),
        logger=_library_log("socketio.server"),
        engineio_logger=_library_log("engineio.server"),
        cors_allowed_origins=allowed_origins(settings),
    )
    socketio.on_error_default(log_event_error)
    warn_of_refused_requests(socketio.server.eio)
    disconnect_without_waiting(socketio.server.eio)
    answer_closed_sessions(socketio.server.eio)
    refuse_unreadable_posts(socketio.server.eio)
    refuse_bad_handshakes(socketio.server.eio)
    disconnect_on_unexpected_packets(socketio.server)
    timeout = settings.server.get("SOCKETIO_JOIN_TIMEOUT", 0)
    if timeout:
        JoinDeadline(socketio, float(timeout)).install(app)
    return socketio


def log_event_error(error: Exception) -> None:
    """Flask-SocketIO's default error handler: an exception raised in an event handler is logged once,
    with its traceback, where the logs go (app.log), its secrets hidden. Left to the library, it ended the
    greenlet or thread that ran the handler, whose traceback gevent's hub or ``threading`` printed to
    stderr (under ``serve``, the secrets in clear). A project's own ``on_error`` handlers come first."""
    event = getattr(request, "event", None) or {}
    log.error(
        "Socket.IO event %r failed (namespace %s)",
        event.get("message"),
        getattr(request, "namespace", None),
        exc_info=error,
    )


def _library_log(name: str) -> logging.Logger:
    """python-socketio's or python-engineio's logger at ERROR (their INFO lines come one per packet),
    writing where every logger writes: given ``False`` instead, each library gave its logger a handler of
    its own, which wrote its errors to stderr in clear, and a second time through the logs."""
    logger = logging.getLogger(name)
    logger.setLevel(logging.ERROR)
    return logger


SERVER_PROBLEMS = frozenset({"no-websocket"})
"""The keys of Engine.IO's once-logged errors that are the server's (no WebSocket server for its async
mode), not a client's: they stay at ERROR."""


def warn_of_refused_requests(engine: Any) -> None:
    """A request Engine.IO refuses as a client's mistake (an old protocol, ``EIO=3``; ``transport=websocket``
    without an Upgrade; an unknown session; a foreign Origin) is a warning line, at most one a minute:
    Engine.IO logged the first of each kind in every process at ERROR, so any client could put ERROR
    lines in the operator's log. A problem of the server's own stays at ERROR."""
    log_error_once = engine._log_error_once
    warnings = ThrottledLog(log)

    def log_refusal(message: str, message_key: str) -> None:
        if message_key in SERVER_PROBLEMS:
            log_error_once(message, message_key)
            return
        warnings.warning("Engine.IO refused a client's request: %s", escape_control(message))

    engine._log_error_once = log_refusal


def disconnect_without_waiting(engine: Any) -> None:
    """Make Engine.IO's ``disconnect(sid)`` return at once.

    Engine.IO's own waits until the client has been sent every queued packet, its close packet included:
    a long-polling client that never polls again (or a WebSocket that never reads) makes that forever.
    Engine.IO calls it on a polling POST it cannot read (an unknown packet type, ``9``): any visitor held
    a server thread and its connection that way, and each later POST of that session was a 500
    ("Session is disconnected"). Here the socket is closed (its close packet queued for a poll already
    waiting) and forgotten: later requests of the session are Engine.IO's 400 "Invalid session".
    """
    waiting = engine.disconnect

    def disconnect(sid: str | None = None) -> None:
        if sid is None:  # every client, as the server stops: its own way
            waiting()
            return
        engine_socket = engine.sockets.pop(sid, None)
        if engine_socket is not None:
            engine_socket.close(wait=False, reason=engine.reason.SERVER_DISCONNECT)

    engine.disconnect = disconnect


def may_be_heard(socketio: SocketIO, room: str, namespace: str = "/") -> bool:
    """Whether an event emitted to ``room`` can reach a client: always with a message queue (another
    process's clients may be in the room); with Socket.IO's in-process manager only, when a client of this
    process is in it. A sender skips building an event nobody would receive (a view with no dashboard open).
    """
    server = socketio.server
    if server is None or type(server.manager) is not Manager:
        return True
    return room in server.manager.rooms.get(namespace, {})


def _redis_queue(services: Services) -> QuietRedisManager:
    """Flask-SocketIO's Redis queue, with short timeouts: an event emitted while Redis is frozen costs its
    request (a page view, a click) PUBLISH_TIMEOUT, not forever. The listener is not affected: redis-py reads
    a subscription without a timeout, so an idle channel is no error."""
    options = {
        "socket_connect_timeout": PUBLISH_TIMEOUT,
        "socket_timeout": PUBLISH_TIMEOUT,
        "retry": RETRY_ONCE_ON_CLOSED,
    }
    from .realtime_queue import QuietRedisManager  # loads redis-py: only a server with Redis needs it

    return QuietRedisManager(services.redis_url, channel=CHANNEL, redis_options=options)


def allowed_origins(settings: Settings) -> list[str] | None:
    """The browser origin a socket may come from: that of ``SERVER_ENV.PUBLIC_URL`` once configured.

    Without a configured public URL (DEV) the Engine.IO default applies: the origin must match the
    request's own Host, so a page opened as localhost or 127.0.0.1 both work.
    """
    configured = str(settings.server.get("PUBLIC_URL") or "").strip()
    if not configured:
        return None
    parts = urlsplit(configured)
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    host = parts.netloc.rpartition("@")[2].lower()
    if parts.port is not None and parts.port == default_port:
        host = host.rsplit(":", 1)[0]  # a browser's Origin leaves a default port out
    return [f"{parts.scheme}://{host}"]


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


CLOSED_SESSION = ("Session is disconnected",)
"""The KeyError Engine.IO raises, uncaught, for a request on a session closed but not yet forgotten."""


def answer_closed_sessions(engine: Any) -> None:
    """Answer a request on a session that closes meanwhile with Engine.IO's 400 "Invalid session".

    A client's close packet (``1``) closes its socket at once but leaves it known: a POST on it just
    after found it closed, and Engine.IO's KeyError became a 500 with a traceback.
    """
    handle = engine.handle_request

    def handle_request(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        try:
            return handle(environ, start_response)
        except KeyError as error:
            if error.args != CLOSED_SESSION:
                raise
            return _bad_request(start_response, f"Invalid session {_sid(environ)}")

    engine.handle_request = handle_request


def refuse_unreadable_posts(engine: Any) -> None:
    """Answer a long-polling POST whose packets cannot be read with Engine.IO's 400, and end its session.

    Engine.IO reads the body inside a catch-all that logs a traceback and answers 200 "OK": a body that
    is not UTF-8, a ``b`` packet that is not base64, a JSONP ``d=`` body without a packet, more than 16
    packets. Any visitor could fill the log that way, a traceback a request, and the session lived on.
    Here the body is read first, as Engine.IO reads it; one it would fail on is refused with a warning line
    (at most one a minute).
    """
    handle = engine.handle_request
    warnings = ThrottledLog(log)

    def handle_request(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        if environ.get("REQUEST_METHOD") != "POST":
            return handle(environ, start_response)
        length = environ.get("CONTENT_LENGTH") or "0"
        if not length.isdigit():
            problem: str | None = f"its Content-Length {length[:20]!r} is no number"
        elif int(length) > engine.max_http_buffer_size:
            return handle(environ, start_response)  # refused by Engine.IO without being read
        else:
            body = environ["wsgi.input"].read(int(length))
            environ["wsgi.input"] = io.BytesIO(body)  # for Engine.IO, which reads it again
            problem = _unreadable(body)
        if problem is None:
            return handle(environ, start_response)
        warnings.warning("Engine.IO: a long-polling POST cannot be read (%s); its session is closed", problem)
        if _sid(environ) in engine.sockets:
            engine.disconnect(_sid(environ))
        return _bad_request(start_response, "Bad Request")

    engine.handle_request = handle_request


def refuse_bad_handshakes(engine: Any) -> None:
    """Answer a WebSocket upgrade whose handshake cannot succeed with a 400 (a 426 naming version 13 for
    another version), with a warning line (at most one a minute), before Engine.IO opens a session for it.

    simple-websocket runs the handshake (wsproto's) after Engine.IO has opened the session, and lets its
    error out: a missing ``Sec-WebSocket-Version`` or ``Sec-WebSocket-Key`` was a 500, a traceback in
    gunicorn's error log, every time. Here the same handshake is tried first on the same request head.
    """
    handle = engine.handle_request
    warnings = ThrottledLog(log)

    def handle_request(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        refusal = _handshake_refusal(environ)
        if refusal is None:
            return handle(environ, start_response)
        status, problem = refusal
        warnings.warning("Engine.IO refused a client's WebSocket handshake: %s", escape_control(problem))
        start_response(status, [("Content-Type", "text/plain"), ("Sec-WebSocket-Version", WEBSOCKET_VERSION)])
        return [json.dumps(problem).encode()]

    engine.handle_request = handle_request


WEBSOCKET_VERSION = "13"
HANDSHAKE_STATUS = {400: "400 BAD REQUEST", 426: "426 UPGRADE REQUIRED"}


def _handshake_refusal(environ: WSGIEnvironment) -> tuple[str, str] | None:
    """The status and reason wsproto refuses the WebSocket handshake of this request with, or None when
    it accepts it or the request is no upgrade Engine.IO would take (Engine.IO refuses those itself)."""
    transport = parse_qs(environ.get("QUERY_STRING", "")).get("transport", ["polling"])[0]
    upgrade = environ.get("HTTP_UPGRADE", "").lower()
    if environ.get("REQUEST_METHOD") != "GET" or transport != "websocket" or upgrade != "websocket":
        return None
    # wsproto at the first upgrade, as simple-websocket imports it: a server without WebSockets never loads it
    from wsproto import ConnectionType
    from wsproto.handshake import H11Handshake
    from wsproto.utilities import RemoteProtocolError

    try:
        H11Handshake(ConnectionType.SERVER).receive_data(_handshake_head(environ))
    except RemoteProtocolError as error:
        code = getattr(error.event_hint, "status_code", 400)
        sent = environ.get("HTTP_SEC_WEBSOCKET_VERSION")
        if code == 426 and sent:  # wsproto says "Missing header" for a version it does not speak too
            return HANDSHAKE_STATUS[
                426
            ], f"WebSocket version {sent!r} is not supported; only {WEBSOCKET_VERSION} is"
        return HANDSHAKE_STATUS.get(code, HANDSHAKE_STATUS[400]), str(error)
    except UnicodeError:  # wsproto decodes Connection as ASCII, Host as IDNA
        return HANDSHAKE_STATUS[400], "a header it reads is not ASCII or no host name"
    return None


def _handshake_head(environ: WSGIEnvironment) -> bytes:
    """The request head simple-websocket gives wsproto's handshake, built as it builds it."""
    head = b"GET / HTTP/1.1\r\n"
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            header = "-".join(part.capitalize() for part in key[5:].split("_"))
            head += f"{header}: {value}\r\n".encode()
    return head + b"\r\n"


def _sid(environ: WSGIEnvironment) -> str:
    """The Engine.IO session a request names (``?sid=``), or ""."""
    return parse_qs(environ.get("QUERY_STRING", "")).get("sid", [""])[0]


def _bad_request(start_response: StartResponse, message: str) -> list[bytes]:
    """Engine.IO's own 400: its message as a JSON string."""
    start_response("400 BAD REQUEST", [("Content-Type", "text/plain")])
    return [json.dumps(message).encode()]


def _unreadable(body: bytes) -> str | None:
    """Why Engine.IO could not read the packets of ``body``, or None when it can. A ``b`` packet must be
    base64 through and through: Engine.IO's decoding drops any other character (``bQUJD!!`` is ``ABC``)."""
    try:
        text = body.decode("utf-8")
        Payload(encoded_payload=text)
        if text.startswith("d="):  # JSONP: the packets are the form field's value
            text = parse_qs(text)["d"][0]
        for packet in text.split("\x1e"):
            if packet.startswith("b"):
                base64.b64decode(packet[1:], validate=True)
    except UnicodeDecodeError:
        return "it is not UTF-8"
    except KeyError:  # a JSONP body whose form holds no d
        return "a JSONP body without its packets (d=)"
    except (ValueError, IndexError) as error:  # binascii.Error is a ValueError
        return str(error) or type(error).__name__
    return None


UNEXPECTED_PACKETS = (("Unexpected binary packet",), ("Unexpected CONNECT_ERROR packet.",))
"""The ValueErrors Socket.IO raises for a packet well formed but out of place: binary data for a namespace
the client has not joined (its ``CONNECT_ERROR`` is refused by ``realtime_packets`` already)."""


def disconnect_on_unexpected_packets(server: Any) -> None:
    """A packet Socket.IO refuses as out of place ends its sender's connection with a warning line (at most
    one a minute): its ValueError was a traceback in the log, a request, and the client stayed."""
    handle = server._handle_eio_message
    warnings = ThrottledLog(log)

    def handle_eio_message(eio_sid: str, data: Any) -> Any:
        try:
            return handle(eio_sid, data)
        except ValueError as error:
            if error.args not in UNEXPECTED_PACKETS:
                raise
            warnings.warning(
                "Socket.IO: %s from a client; it is disconnected", str(error).rstrip(".").lower()
            )
            server.eio.disconnect(eio_sid)
            return None

    server.eio.on("message", handle_eio_message)  # Engine.IO holds the handler it was given: give it this one


class JoinDeadline:
    """Closes every Engine.IO connection that has joined no namespace ``timeout`` seconds after opening.

    Closing is done without waiting for the client: the Engine.IO close packet and the WebSocket close
    frame are sent, and ``CLOSE_GRACE`` seconds later the TCP connection under a WebSocket is shut down
    by the server, so a client that ignores the close frame (or never reads) cannot keep it.
    """

    def __init__(self, socketio: SocketIO, timeout: float) -> None:
        self.socketio = socketio
        self.timeout = timeout
        self.deadlines: dict[str, float] = {}
        self.transports: dict[str, socket.socket] = {}  # TCP connection under each pending WebSocket
        self.cutoffs: list[tuple[float, socket.socket]] = []  # shut down once their grace has passed
        self._sweeper_started = False
        self._lock = threading.Lock()
        self.notices = ThrottledLog(log)  # any client can open sockets that join nothing, every few seconds

    def install(self, app: Flask) -> None:
        """Give each new connection a deadline and note the TCP connection of each WebSocket."""
        engine = self.socketio.server.eio
        original = engine.handlers["connect"]

        def on_connect(eio_sid: str, environ: dict[str, Any], *args: Any) -> Any:
            accepted = original(eio_sid, environ, *args)
            if accepted is not False:
                self.deadlines[eio_sid] = time.monotonic() + self.timeout
                self._note_transport(eio_sid, environ)
                self._start_sweeper()
            return accepted

        engine.on("connect", on_connect)
        app.wsgi_app = self._upgrade_watcher(app.wsgi_app)  # type: ignore[method-assign,assignment]

    def _upgrade_watcher(self, wsgi_app: WSGIApplication) -> WSGIApplication:
        # A polling connection that upgrades carries its WebSocket on a new TCP connection.
        def watch(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            if self.deadlines and environ.get("HTTP_UPGRADE", "").lower() == "websocket":
                sid = parse_qs(environ.get("QUERY_STRING", "")).get("sid", [""])[0]
                if sid in self.deadlines:
                    self._note_transport(sid, environ)
            return wsgi_app(environ, start_response)

        return watch

    def _note_transport(self, eio_sid: str, environ: WSGIEnvironment) -> None:
        if environ.get("HTTP_UPGRADE", "").lower() != "websocket":
            return  # long-polling: each request ends by itself once the socket is closed
        raw = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
        if isinstance(raw, socket.socket):
            self.transports[eio_sid] = raw

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
            try:
                self.sweep(time.monotonic())
            except Exception:  # one bad connection must not end the deadlines of all the others
                log.exception("Socket.IO join deadline sweep failed")

    def sweep(self, now: float) -> list[str]:
        """Close the connections past their deadline that joined nothing; return their Engine.IO ids."""
        self._cut_off(now)
        server = self.socketio.server
        closed = []
        for eio_sid, deadline in list(self.deadlines.items()):
            if eio_sid not in server.environ:  # already gone
                self._forget(eio_sid)
            elif deadline <= now:
                transport = self._forget(eio_sid)
                if not self.joined(eio_sid):
                    self.close(eio_sid)
                    closed.append(eio_sid)
                    if transport is not None:
                        self.cutoffs.append((now + CLOSE_GRACE, transport))
        if closed:
            self.notices.info("closed %d Socket.IO connection(s) that joined no namespace", len(closed))
        return closed

    def _forget(self, eio_sid: str) -> socket.socket | None:
        self.deadlines.pop(eio_sid, None)
        return self.transports.pop(eio_sid, None)

    def close(self, eio_sid: str) -> None:
        """Close the Engine.IO connection ``eio_sid`` without waiting for its client to read anything
        (:func:`disconnect_without_waiting`); the reason given to handlers is "server disconnect"."""
        self.socketio.server.eio.disconnect(eio_sid)

    def _cut_off(self, now: float) -> None:
        due = [transport for at, transport in self.cutoffs if at <= now]
        self.cutoffs = [(at, transport) for at, transport in self.cutoffs if at > now]
        for transport in due:
            try:
                transport.shutdown(socket.SHUT_RDWR)  # wakes the reader and writer, which then close it
            except OSError as error:  # the client answered the close frame: the server already closed it
                log.debug("closed Socket.IO transport already gone: %s", error)

    def joined(self, eio_sid: str) -> bool:
        """Whether the Engine.IO connection ``eio_sid`` is connected to any namespace."""
        manager = self.socketio.server.manager
        return any(manager.sid_from_eio_sid(eio_sid, name) for name in list(manager.get_namespaces()))
