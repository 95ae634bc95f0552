"""Whether an existing SQLite file is a database this process can write.

``SELECT 1`` answers on any file, and SQLite opens a file it may not write (an immutable file, a read-only
mount) read-only without a word: a site then started, served its pages, and failed at its first write,
task after task. Here the file's header is read (``PRAGMA schema_version``: "file is not a database"
otherwise), and, for a connection that is not ``readonly``, one write is tried and rolled back: the
database's ``user_version`` set to the value it has.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .config import DatabaseSettings
from .sqlite_backup import sqlite_file

PROBE_TIMEOUT = 2.0
"""Seconds to wait for a write lock another process holds; a file locked that long is written by someone."""
LOCKED = "database is locked"


def sqlite_file_problem(database: DatabaseSettings) -> str | None:
    """Why the existing SQLite file of ``database`` cannot serve it (not a database; read-only when the
    connection writes), in words that say what to do; None when it can, or when it is no such file."""
    file = sqlite_file(database)
    if file is None or not file.is_file() or database.url.get_driver_name() != "pysqlite":
        return None  # no file yet (`run` makes it), or a driver other than the standard library's
    try:
        connection = sqlite3.connect(file, timeout=PROBE_TIMEOUT, isolation_level=None)
    except sqlite3.Error as error:
        return f"{str(file)!r} cannot be opened ({error})"
    try:
        return _problem(connection, file, database)
    finally:
        connection.close()


def _problem(connection: sqlite3.Connection, file: Path, database: DatabaseSettings) -> str | None:
    try:
        connection.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError as error:
        return (
            f"{str(file)!r} is not a SQLite database ({error}): point DATABASE.{database.name} at the "
            "site's database file, or put a backup back with `conexoos db restore`"
        )
    if database.readonly:
        return None
    try:
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(f"PRAGMA user_version = {version}")  # the same value: nothing changes
        connection.execute("ROLLBACK")
    except sqlite3.OperationalError as error:
        if LOCKED in str(error):
            return None  # another process writes it right now: it can be written
        return (
            f"{str(file)!r} cannot be written ({error}): give the user the site runs as write access to "
            "the file and its folder (not an immutable file nor a read-only mount), or set the "
            "connection's readonly: true"
        )
    return None
