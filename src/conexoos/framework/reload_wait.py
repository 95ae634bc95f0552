"""``conexoos run``'s reloader survives a broken edit.

Werkzeug's reloader restarts its child when a file changes, and exits as soon as that child ends for any
other reason. A child that cannot build the app (a syntax error just saved, a bad import) ended the whole
development server: the developer had to start it again after fixing the file. Here such a child shows the
error, waits until a file of the project changes, and then exits with the code that asks the reloader for
a new child.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from .errors import ConexoosError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

RESTART_CODE = 3
"""The exit status with which Werkzeug's reloader starts a new child."""
WATCHED = (".py", ".yml", ".yaml", ".json", ".html", ".txt")
SKIPPED_FOLDERS = frozenset({".venv", "venv", "node_modules", "instance", "__pycache__", ".git"})
POLL_SECONDS = 1.0

Built = TypeVar("Built")


def in_reloader_child() -> bool:
    """Whether this process is the child Werkzeug's reloader started (the one that serves)."""
    return os.environ.get("WERKZEUG_RUN_MAIN") == "true"


def build_or_wait(build: Callable[[], Built], root: Path) -> Built:
    """``build()``; in the reloader's child, an error is shown, then the child waits for a change under
    ``root`` and exits for a restart, instead of ending the server."""
    if not in_reloader_child():
        return build()
    try:
        return build()
    except ConexoosError as error:  # a configuration or schema refused: its lines, as a command says them
        print(f"error: {error}", file=sys.stderr)
    except Exception:  # noqa: BLE001 (any error of the project's code: it is shown, then waited out)
        traceback.print_exc()
    print(
        " * The app could not start: fix the error above; it restarts when a file changes.", file=sys.stderr
    )
    answer_unavailable_meanwhile()
    wait_for_a_change(root)
    sys.exit(RESTART_CODE)


UNAVAILABLE = (
    b"The app could not start: its error is shown where `conexoos run` runs. It starts again when a file "
    b"of the project changes.\n"
)


def answer_unavailable_meanwhile() -> None:
    """Answer every request with a 503 on the socket the reloader hands its child (WERKZEUG_SERVER_FD)
    until this child exits: the port stays open across restarts, and requests waited there unanswered
    until the next edit. The error itself is not sent: it may hold what only the developer should see."""
    inherited = os.environ.get("WERKZEUG_SERVER_FD")
    if not inherited:
        return
    from werkzeug.serving import make_server  # the development server's, in its reloader child only

    with socket.socket(fileno=os.dup(int(inherited))) as listening:  # only to learn its address
        host, port = listening.getsockname()[:2]
    server = make_server(host, port, _unavailable, threaded=True, fd=int(inherited))
    threading.Thread(target=server.serve_forever, name="unavailable-meanwhile", daemon=True).start()


def _unavailable(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Retry-After", "1"),
        ("Cache-Control", "no-store"),
    ]
    start_response("503 SERVICE UNAVAILABLE", headers)
    return [UNAVAILABLE]


def wait_for_a_change(root: Path, poll: float = POLL_SECONDS) -> None:
    """Return once a watched file under ``root`` is added, removed or modified."""
    before = _snapshot(root)
    while _snapshot(root) == before:
        time.sleep(poll)


def _snapshot(root: Path) -> dict[Path, float]:
    return {path: _mtime(path) for path in _watched_files(root)}


def _watched_files(root: Path) -> Iterator[Path]:
    for folder, folders, files in os.walk(root):
        folders[:] = [name for name in folders if name not in SKIPPED_FOLDERS]
        for name in files:
            if name.endswith(WATCHED):
                yield Path(folder, name)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return -1.0  # removed between the listing and now: a change the next snapshot sees
