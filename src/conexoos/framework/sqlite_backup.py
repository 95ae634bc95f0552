"""Backing up and restoring a SQLite database: ``conexoos db backup FILE`` and ``db restore FILE``.

Copying the database file misses what its write-ahead log (``-wal``) still holds, and copying a backup
over it is worse: SQLite replays the log left beside it onto the copy, so the "restored" database keeps
the changes made after the backup. Both commands go through SQLite's online backup API instead, which
reads and writes the pages through SQLite (the log included) under SQLite's own locks: a backup may be
taken while the site runs, and a restore replaces every page and empties the log.

Other servers have their own tools (``pg_dump``/``pg_restore``, ``mariadb-dump``): for them both
commands refuse, naming the tool.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from .config import DatabaseSettings
from .errors import ConexoosError

BACKUP_MODE = 0o600
"""A backup holds what the database holds (password hashes, sessions): its owner's only."""
OTHER_TOOLS = {"postgresql": "pg_dump and pg_restore", "mysql": "mariadb-dump (or mysqldump)"}


class BackupError(ConexoosError):
    """A backup or a restore cannot be made; the message says why, in one line."""


def database_file(database: DatabaseSettings) -> Path:
    """The file of ``database``; :class:`BackupError` when it is no SQLite file."""
    url = database.url
    backend = url.get_backend_name()
    if backend != "sqlite":
        tool = OTHER_TOOLS.get(backend, "the tools of its server")
        raise BackupError(
            f"database connection {database.name!r} is {backend}: back it up and restore it with {tool}"
        )
    file = sqlite_file(database)
    if file is None:
        raise BackupError(f"database connection {database.name!r} keeps no file of its own to back up")
    return file


def sqlite_file(database: DatabaseSettings) -> Path | None:
    """The file of ``database``, or None when it is no SQLite database with a file of its own (in memory,
    or a ``file:`` URI)."""
    url = database.url
    name = url.database
    if url.get_backend_name() != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def backup(database: DatabaseSettings, target: Path) -> Path:
    """Write a consistent copy of ``database`` to ``target`` (which must not exist), readable by its owner
    only; the path written."""
    source = database_file(database)
    if not source.is_file():
        raise BackupError(f"{str(source)!r} does not exist: there is nothing to back up yet")
    if str(target) in ("", "."):
        raise BackupError("give the name of the backup file to write")
    if target.exists():
        raise BackupError(f"{str(target)!r} exists; give the name of a new file (a backup never overwrites)")
    if not target.parent.is_dir():
        raise BackupError(f"{str(target.parent)!r} is no folder; create it first")
    try:
        _copy(source, target)
    except (sqlite3.Error, OSError) as error:
        raise BackupError(f"no backup written to {str(target)!r}: {_cause(error)}") from None
    return target


def _copy(source: Path, target: Path) -> None:
    handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        with closing(_open_read_only(source)) as reader, closing(sqlite3.connect(partial)) as writer:
            reader.backup(writer)
            # One self-contained file: in WAL mode (the site's), every later reader of the backup, restore
            # included, would make -wal and -shm files beside it.
            writer.execute("PRAGMA journal_mode=DELETE")
        os.chmod(partial, BACKUP_MODE)
        os.replace(partial, target)  # whole or not at all: a failed backup leaves no half file
    except BaseException:
        os.unlink(partial)
        raise


@dataclass(frozen=True)
class SiteSchema:
    """What a backup of this site's database holds: some of its ``tables``, and a migration history whose
    revisions are all ``revisions`` (None: the connection has no history), each with the tables and
    columns ``schema_at`` says (None: not known); ``columns`` are the models' (the latest revision's)."""

    tables: frozenset[str]
    revisions: frozenset[str] | None
    schema_at: Callable[[str], Mapping[str, frozenset[str]] | None] = lambda _revision: None
    columns: Mapping[str, frozenset[str]] = field(default_factory=dict)


def restore(database: DatabaseSettings, source: Path, site: SiteSchema) -> Path:
    """Replace every page of ``database`` with those of the backup ``source``, checked first to be a sound
    database of this site from a release this code knows; the file restored. The write-ahead log is
    emptied, so nothing written after the backup comes back."""
    target = database_file(database)
    if str(source) in ("", "."):
        raise BackupError("give the backup file to restore")
    if not source.exists():
        raise BackupError(f"{str(source)!r} does not exist")
    if not source.is_file():
        raise BackupError(f"{str(source)!r} is not a file (a backup is the file `conexoos db backup` wrote)")
    if source.resolve() == target.resolve():
        raise BackupError(f"{str(source)!r} is the database itself")
    try:
        with closing(_open_read_only(source)) as reader:
            _require_sound(reader, source)
            _require_of_this_site(reader, source, site)
            target.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(target, timeout=10)) as writer:
                reader.backup(writer)
                writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except (sqlite3.Error, OSError) as error:
        raise BackupError(f"{str(target)!r} not restored: {_cause(error)}") from None
    return target


def _cause(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def _open_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)


def _require_of_this_site(connection: sqlite3.Connection, path: Path, site: SiteSchema) -> None:
    """Refuse an empty file, another program's database, or one of a release this code does not know."""
    held = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not held & site.tables:
        raise BackupError(
            f"{str(path)!r} is no backup of this site: it holds none of its tables ({len(held)} table(s) in "
            "all); nothing restored"
        )
    if site.revisions is None or "alembic_version" not in held:
        return
    recorded = {revision for (revision,) in connection.execute("SELECT version_num FROM alembic_version")}
    unknown = sorted(recorded - site.revisions)
    if unknown:
        raise BackupError(
            f"{str(path)!r} was made by a release this code does not know (revision {', '.join(unknown)}): "
            "restore it with that release or a later one; nothing restored"
        )
    _require_whole(connection, held, path, recorded, site)


def _require_whole(
    connection: sqlite3.Connection, held: set[str], path: Path, recorded: set[str], site: SiteSchema
) -> None:
    """Refuse a backup whose tables and columns are not those of its recorded revision: one that lacks
    some, restored, made the site refuse to start (or fail on every request using them) after its database
    was replaced; one that holds some of a later revision (its ``alembic_version`` lowered) was restored,
    and ``db upgrade``, which the site then asks for, failed making them again."""
    for revision in sorted(recorded):
        expected = site.schema_at(revision)
        if expected is None:
            continue  # its migrations cannot run on SQLite: nothing to compare the backup with
        missing = sorted(set(expected) - held)
        if missing:
            raise BackupError(
                f"{str(path)!r} lacks tables a database at its revision {revision} holds ({_few(missing)}): "
                "it is not a whole backup of this site; nothing restored"
            )
        _refuse_later(path, revision, "tables", sorted((held & site.tables) - set(expected)))
        for table, columns in sorted(expected.items()):
            found = {
                name for (name,) in connection.execute("SELECT name FROM pragma_table_info(?)", (table,))
            }
            lacking = sorted(columns - found)
            if lacking:
                raise BackupError(
                    f"{str(path)!r}: its table {table} lacks columns a database at its revision {revision} "
                    f"has ({_few(lacking)}): it is not a whole backup of this site; nothing restored"
                )
            later = sorted((found & site.columns.get(table, frozenset())) - columns)
            _refuse_later(path, revision, f"columns in its table {table}", later)


def _refuse_later(path: Path, revision: str, what: str, later: list[str]) -> None:
    """Refuse a backup holding ``later`` tables or columns, made by a revision after its recorded one."""
    if later:
        raise BackupError(
            f"{str(path)!r} holds {what} a database at its revision {revision} does not ({_few(later)}), "
            "made by a later revision: the revision it records is older than its tables (its "
            "alembic_version was changed), and `conexoos db upgrade` would fail making them again; "
            "nothing restored"
        )


def _few(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _require_sound(connection: sqlite3.Connection, path: Path) -> None:
    try:
        verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{str(path)!r} is no SQLite database ({error})") from None
    if verdict != "ok":
        said = "; ".join(line.strip(" *") for line in str(verdict).splitlines() if line.strip(" *"))
        raise BackupError(f"{str(path)!r} is damaged (SQLite's quick_check: {said}); nothing restored")
