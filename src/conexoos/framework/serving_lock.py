"""A SQLite database is not restored while a site serves it.

``run`` and ``serve`` hold a shared lock (``flock``) on a file beside each writable SQLite database they
serve, ``<database>-serving``, for as long as their process lives (gunicorn's workers share the master's);
``db restore`` takes it exclusively for the restore. Unlike the address the site listens on, which a
site started with another ``--port`` or ``PORT`` does not share, the lock follows the database file,
and the kernel releases it when its holder ends, however it ends: no stale file to remove by hand.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from .config import DatabaseSettings, Settings
from .errors import ConexoosError
from .sqlite_backup import sqlite_file

LOCK_SUFFIX = "-serving"

_held: list[IO[bytes]] = []
"""The lock files this process serves under; closed (and so released) when it ends."""


class DatabaseInUse(ConexoosError):
    """A site serves the database a restore would replace, or a restore is under way on one a site would
    serve."""


def hold_while_serving(settings: Settings) -> None:
    """Take the shared lock of each writable SQLite database of ``settings`` until this process ends;
    :class:`DatabaseInUse` while a restore holds one."""
    for database in settings.databases.values():
        file = sqlite_file(database)
        if file is None or database.readonly:
            continue
        lock = _lock_of(file)
        if any(handle.name == str(lock) for handle in _held):
            continue  # held already: serve's master asks when it builds the server and when it runs it
        handle = _open(lock)
        if not _locked(handle, fcntl.LOCK_SH):
            handle.close()
            raise DatabaseInUse(
                f"database connection {database.name!r}: {file} is being restored (`conexoos db restore`); "
                "start the site once the restore is done"
            )
        _held.append(handle)


@contextmanager
def held_for_restore(database: DatabaseSettings, force: bool = False) -> Iterator[None]:
    """Hold ``database`` (a SQLite file) for a restore; :class:`DatabaseInUse` while a site serves it,
    unless ``force``."""
    file = sqlite_file(database)
    if file is None:
        yield
        return
    handle = _open(_lock_of(file))
    try:
        if not _locked(handle, fcntl.LOCK_EX) and not force:
            raise DatabaseInUse(
                f"a site (`conexoos run` or `serve`) is serving {file}, whatever address it listens on: "
                "stop it, then restore (or --force)"
            )
        yield
    finally:
        handle.close()


def _lock_of(file: Path) -> Path:
    """The lock file beside the database's real file: a symbolic link (or a path with ``..``) to the file a
    site serves must find the same lock."""
    real = file.resolve()
    return real.with_name(real.name + LOCK_SUFFIX)


def _open(path: Path) -> IO[bytes]:
    try:
        return path.open("ab")
    except OSError as error:
        raise ConexoosError(f"cannot open the lock file {path} ({error.strerror or error})") from error


def _locked(handle: IO[bytes], kind: int) -> bool:
    try:
        fcntl.flock(handle, kind | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
