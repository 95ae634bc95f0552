"""Logging: level and rotated files from ``SERVER_ENV.LOG``, one access line per request."""

from __future__ import annotations

import io
import logging
import logging.handlers
import math
import os
import re
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from flask import Flask, Response, g, request

from .config import Settings, make_instance_folder, make_private_folder
from .proxy import SERVER_ENVIRON
from .redaction import Redactor, secret_values

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ROTATE_AT_BYTES = 10 * 1024 * 1024
ROTATED_FILES_KEPT = 5
ACCESS_FORMAT = "%s %s %s %.1fms"
REOPEN_CHECK_SECONDS = 1.0
"""How often, at most, a log file under ``ROTATE: external`` is checked for having been moved."""
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\\]")
_clock = time.monotonic
framework_log = logging.getLogger("conexoos")
access_log = logging.getLogger("conexoos.access")
_redactor = [Redactor()]
"""The :class:`Redactor` of the configuration the logs were last configured with (logging is global)."""


def configure_logging(settings: Settings) -> None:
    """Send every logger's lines (the framework's, the project's, a library's, Python's root logger's) to
    ``app.log`` in LOG.DIR, or to stderr when it is empty, at LOG.LEVEL, their secrets hidden: through the
    root logger, which every logger reaches. The access lines go to ``access.log`` in LOG.DIR. Handlers put
    on the root logger by others (a test runner's) are kept."""
    level = getattr(logging, settings.server["LOG"]["LEVEL"])
    log_dir = settings.server["LOG"]["DIR"]
    rotate = settings.server["LOG"]["ROTATE"]
    root = logging.getLogger()
    _remove_handlers()
    access_log.handlers.clear()  # the framework's alone: another's handler there would write lines twice
    root.setLevel(level)
    framework_log.setLevel(level)
    _redactor[0] = Redactor(secret_values(settings.tree, settings.project_schema))
    redacting = RedactingFormatter(FORMAT, _redactor[0])
    if log_dir:
        make_instance_folder(settings.instance_path)  # first, when the logs are in it: the owner's only
        make_private_folder(Path(log_dir))
        _add_handler(root, _file_handler(Path(log_dir) / "app.log", rotate, redacting))
        _add_handler(access_log, _file_handler(Path(log_dir) / "access.log", rotate, redacting))
        access_log.propagate = False
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(redacting)
        _add_handler(root, handler)
        access_log.propagate = True


_handlers: list[tuple[logging.Logger, logging.Handler]] = []
"""The handlers :func:`configure_logging` added, with their loggers: the next call replaces them."""


def _add_handler(logger: logging.Logger, handler: logging.Handler) -> None:
    logger.addHandler(handler)
    _handlers.append((logger, handler))


def _remove_handlers() -> None:
    """Close and take off the handlers :func:`configure_logging` added."""
    while _handlers:
        logger, handler = _handlers.pop()
        logger.removeHandler(handler)
        handler.close()


class RedactingFormatter(logging.Formatter):
    """Writes a line with its secrets hidden by ``redactor``, in the message and in a traceback's text
    alike. An access line (a method, a path whose one-time tokens are left out already, a status and a
    duration) only has the configured secrets replaced: the patterns would cost every request."""

    def __init__(
        self, fmt: str, redactor: Redactor | None, datefmt: str | None = None, decode: bool = False
    ) -> None:
        super().__init__(fmt, datefmt)
        self.redactor = redactor
        """None: the logs' redactor at the time a line is written (:func:`log_redactor`)."""
        self.decode = decode
        """Also hide what percent-decoding shows (a line holding a request's URL: gunicorn's)."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        redactor = self.redactor or log_redactor()
        if record.name == access_log.name:
            return redactor.known(text)
        return redactor.with_decoded(text) if self.decode else redactor(text)


class RedactingStream(io.TextIOBase):
    """A text stream (``sys.stderr`` under ``conexoos run``) whose every write has the secrets of the
    logs' configuration (:func:`log_redactor`) hidden: what Werkzeug's debugger and development server
    write there (a traceback, a request line with its query string) does not pass through a log record."""

    def __init__(self, stream: TextIO, known_only: bool = False) -> None:
        super().__init__()
        self.stream = stream
        self.known_only = known_only
        """Hide the configured secrets only, not text shaped like one (``--password: Use at least...``)."""

    def write(self, text: str) -> int:
        redactor = log_redactor()
        self.stream.write(redactor.known(text) if self.known_only else redactor(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()


def redact_stderr(known_only: bool = False) -> None:
    """Send ``sys.stderr`` through :class:`RedactingStream` (once): for ``conexoos run``, where Werkzeug
    writes there directly; ``known_only`` for a command, whose own words (a usage error naming
    ``--password``) are no secret's shape to hide, while a traceback may hold a configured secret."""
    if not isinstance(sys.stderr, RedactingStream):
        sys.stderr = RedactingStream(sys.stderr, known_only)


def log_redactor() -> Redactor:
    """What hides the secrets of the configuration the logs were last configured with."""
    return _redactor[0]


class EveryFewSeconds:
    """Says yes at most once per ``seconds``: for a warning that every request of an outage would repeat."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last = -math.inf

    def due(self) -> bool:
        """True when the last yes was ``seconds`` ago or more (approximate under threads; never more often
        than once per racing thread)."""
        now = time.monotonic()
        if now - self._last < self.seconds:
            return False
        self._last = now
        return True


def flush_logs() -> None:
    """Write out whatever the logs' handlers still buffer (a stopping worker calls this)."""
    for _logger, handler in _handlers:
        handler.flush()


def route_project_log(app: Flask, module_roots: tuple[str, ...] = ()) -> None:
    """Have the project's Flask logger (unhandled exceptions among others) and the loggers of its modules
    (``logging.getLogger(__name__)`` under each of ``module_roots``) write where every logger writes (the
    root logger's handlers), at LOG.LEVEL, with no handler of their own (Flask's app logger is at DEBUG
    under DEV)."""
    for name in {app.logger.name, *module_roots}:
        if name == framework_log.name or name.startswith(framework_log.name + "."):
            continue  # already below the framework's logger
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(framework_log.level)


def _file_handler(path: Path, rotate: str, formatter: logging.Formatter) -> logging.Handler:
    """``size``: rotate at 10 MB in this process; ``external``: reopen the file when another tool moved it.

    Size rotation is only safe in one process: two workers would each rename the same file.
    """
    handler: logging.Handler
    if rotate == "external":
        handler = ReopeningFileHandler(path, encoding="utf-8")
    else:
        handler = SizeRotatingFileHandler(
            path, maxBytes=ROTATE_AT_BYTES, backupCount=ROTATED_FILES_KEPT, encoding="utf-8"
        )
    handler.setFormatter(formatter)
    return handler


class ReopeningFileHandler(logging.handlers.WatchedFileHandler):
    """A WatchedFileHandler that looks whether its file was moved (a ``stat``) at most once per
    REOPEN_CHECK_SECONDS, not before every line: a line written in the second after logrotate moved the
    file still goes to the moved file, which logrotate's ``delaycompress`` leaves uncompressed for it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next_check = _clock() + REOPEN_CHECK_SECONDS

    def reopenIfNeeded(self) -> None:
        now = _clock()
        if now >= self._next_check:
            self._next_check = now + REOPEN_CHECK_SECONDS
            super().reopenIfNeeded()


class SizeRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler that counts the bytes it writes instead of formatting each line twice and
    asking the file its size and type before every line: it rotates once a line took the file to
    ``maxBytes`` (so a file ends at most one line above it). A file that is not a regular one (a device,
    a pipe) is never rotated, as the standard handler does."""

    def _open(self) -> Any:
        stream = super()._open()
        status = os.fstat(stream.fileno())
        self._written = status.st_size
        self._regular = stat.S_ISREG(status.st_mode)
        return stream

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        return False  # decided after the write, in emit

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.stream is None:
                self.stream = self._open()
            line = self.format(record) + self.terminator
            self.stream.write(line)
            self.flush()
            self._written += len(line.encode(self.encoding or "utf-8", "backslashreplace"))
            if self._regular and 0 < self.maxBytes <= self._written:
                self.doRollover()
        except Exception:  # noqa: BLE001 - logging's contract: report through handleError, never raise
            self.handleError(record)


class SharedSizeRotatingFileHandler(SizeRotatingFileHandler):
    """:class:`SizeRotatingFileHandler` for a file that two processes write (gunicorn's master and its worker
    both write ``gunicorn.error.log``): either rotates it once its own count reaches ``maxBytes``, and the
    other, which would go on writing into the renamed file, reopens the path once it sees (a ``stat`` at
    most once per REOPEN_CHECK_SECONDS) that the file there is no longer its own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next_check = _clock() + REOPEN_CHECK_SECONDS

    def emit(self, record: logging.LogRecord) -> None:
        self.reopenIfNeeded()
        super().emit(record)

    def reopenIfNeeded(self) -> None:  # WatchedFileHandler's name, as ReopeningFileHandler's
        """Open the path again when the file there is no longer this handler's (looked at once a second)."""
        stream = self.stream
        if stream is not None and _clock() >= self._next_check:
            self._next_check = _clock() + REOPEN_CHECK_SECONDS
            if _moved(self.baseFilename, stream.fileno()):
                stream.close()
                self.stream = self._open()


def _moved(path: str, descriptor: int) -> bool:
    """Whether the file open as ``descriptor`` is no longer the one at ``path`` (renamed, or removed)."""
    try:
        there = os.stat(path)
    except FileNotFoundError:
        return True
    mine = os.fstat(descriptor)
    return (there.st_dev, there.st_ino) != (mine.st_dev, mine.st_ino)


SECRET_ARGUMENTS = frozenset({"token", "secret"})
"""URL rule arguments whose values the access logs leave out (``/reset/<token>``)."""
LOGGED_PATH = "conexoos.logged_path"
"""The WSGI environ key of a path the access logs write instead of the request's (its secrets left out)."""


def install_access_log(app: Flask) -> None:
    """Log ``METHOD path status duration`` once per request, with the status the client got."""
    app.before_request(_start_timer)
    app.after_request(log_access)
    app.process_response = _writing_access_line(app.process_response)  # type: ignore[method-assign,assignment]


def _start_timer() -> None:
    g.conexoos_request_start = time.perf_counter()


def log_access(response: Response) -> Response:
    """After-request function: keeps ``response`` for the request's access line, which
    :func:`write_access_line` writes once the session is saved."""
    g.conexoos_access_response = response
    return response


def write_access_line() -> None:
    """The access line (:func:`log_access_line`) of the response :func:`log_access` kept, if it ran: call it
    after the session's save, which may still turn the answer into another (a 503 when the session store is
    down: ``sessions.py``)."""
    response = g.pop("conexoos_access_response", None)
    if response is not None:
        log_access_line(response.status_code)


def _writing_access_line(process_response: Callable[[Response], Response]) -> Callable[[Response], Response]:
    """``Flask.process_response`` (the after-request functions, then the session's save), then the access
    line; a fast path finishes its answers the same way (``fast_path.py``), and one it sends again
    (``replay.py``) writes its line itself."""

    def processed(response: Response) -> Response:
        response = process_response(response)
        write_access_line()
        return response

    return processed


def log_access_line(status: int) -> None:
    """Log the current request's access line with ``status`` (also for an answer sent without a
    ``Response``, see ``fast_path.py``), or, when a middleware outside may still change the answer
    (:func:`hold_access_line`), keep it for that middleware to write with the status it sends."""
    logged = logged_path()
    if logged is not request.path:  # for gunicorn's access log too (serve.AccessLogger), in its environ:
        request.environ.get(SERVER_ENVIRON, request.environ)[LOGGED_PATH] = logged  # Socket.IO copies it
    if not access_log.isEnabledFor(logging.INFO):
        return  # LOG.LEVEL above INFO: nothing to format
    started = g.get("conexoos_request_start")
    duration_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    line = AccessLine(escape_control(request.method), escape_control(logged), status, duration_ms)
    held: HeldAccessLine | None = request.environ.get(HELD_ACCESS_LINE)
    if held is None:
        line.write()
    else:
        held.line = line  # an answer asked for again (a range, then the whole file) replaces the first


HELD_ACCESS_LINE = "conexoos.held_access_line"
"""The WSGI environ key of a :class:`HeldAccessLine` (a copy of the environ shares it)."""


@dataclass
class AccessLine:
    """``METHOD path status duration``: one request's access line."""

    method: str
    path: str
    status: int
    duration_ms: float

    def write(self) -> None:
        # Logger.info without its look up the stack for the caller's file and line, which no access line
        # shows (6 of 27 µs a line).
        arguments = (self.method, self.path, self.status, self.duration_ms)
        record = access_log.makeRecord(
            access_log.name, logging.INFO, __file__, 0, ACCESS_FORMAT, arguments, None
        )
        access_log.handle(record)


@dataclass
class HeldAccessLine:
    """The access line of a request whose answer a WSGI middleware outside the app may still replace (a 200
    made a 304, 412 or 206: ``conditional_requests.py``): the app keeps its line here, and the middleware
    writes it with the status it sends."""

    line: AccessLine | None = None

    def write(self, status: int | None) -> None:
        """Write the kept line (once) with ``status``, the one sent; None: the app's own (none was sent)."""
        line, self.line = self.line, None
        if line is not None:
            line.status = line.status if status is None else status
            line.write()


def hold_access_line(environ: dict[str, Any]) -> HeldAccessLine:
    """Have the app keep the access line of the request of ``environ`` in the returned holder, for the
    caller (a middleware that may replace the answer) to write with the status it sends."""
    held = HeldAccessLine()
    environ[HELD_ACCESS_LINE] = held
    return held


def logged_target(environ: dict[str, Any]) -> str | None:
    """The request's path and query with the path the app's access log wrote for it (:data:`LOGGED_PATH`,
    ``/reset/<token>?from=mail``), for a server's own access line; None when the app noted none (no secret
    in its path, or the app never saw the request)."""
    logged = environ.get(LOGGED_PATH)
    if logged is None:
        return None
    query = environ.get("QUERY_STRING")
    return f"{logged}?{query}" if query else str(logged)


def logged_path() -> str:
    """The request's path with the values of the URL rule's :data:`SECRET_ARGUMENTS` (one-time links'
    tokens: a password reset, an address change's undo) as ``<name>``: a log is read by more people, and
    kept longer, than a link is valid."""
    path = request.path
    values = request.view_args
    if not values or SECRET_ARGUMENTS.isdisjoint(values):
        return path
    for name in SECRET_ARGUMENTS.intersection(values):
        secret = str(values[name])
        if secret:
            path = path.replace(secret, f"<{name}>")
    return path


def escape_control(text: str) -> str:
    """``text`` with control characters (CR, LF, ESC, ...) and backslashes written as ``\\xNN`` escapes.

    A path such as ``/a%0d%0aFAKE`` then stays on its own line and cannot forge another log entry.
    """
    return CONTROL_CHARACTERS.sub(_escape_one, text)


def _escape_one(match: re.Match[str]) -> str:
    character = match.group()
    if character == "\\":
        return "\\\\"
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
