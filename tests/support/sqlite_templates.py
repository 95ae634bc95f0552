"""Give a test's new SQLite file the models' tables by copying a file made once, not by ``create_all``.

``create_all`` of the product's 35 tables took about 0.1 s per test (compiling and running the DDL), and
nearly every test builds an app with its own SQLite file. The first app of a run whose models are a
given set of tables runs ``create_all`` as before, and its file, still empty, is kept as the template
for that set; every later app with the very same tables gets a copy of that file. A copy is what
``create_all`` would have made: the same tables, indexes and constraints, and no rows.

It is used only when nothing could tell the difference: the app has one database and one set of models,
the file did not exist before the app was built (so it holds no other app's rows), and no connection of
this process has it open when it is replaced (one would keep reading the old file). Anything else runs
``create_all`` as before.
"""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path

from flask import Flask
from sqlalchemy import Table

from conexoos.framework.config import DatabaseSettings
from conexoos.framework.database import create_schema, db

FingerPrint = tuple[tuple[int, str, int, int, int], ...]


class SchemaTemplates:
    """Template SQLite files of one process, one per set of model tables, in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._files: dict[FingerPrint, Path] = {}
        self._tables: dict[FingerPrint, tuple[Table, ...]] = {}
        """The tables of each template, kept so that their ids (in the key) are never reused."""

    def create_schema(self, app: Flask, path: Path) -> None:
        """Give ``app``'s new SQLite file at ``path`` its tables: a template's copy, or ``create_all``."""
        settings = app.extensions["conexoos"].settings
        with app.app_context():
            if not _one_database_at(path, settings.databases) or list(db.metadatas) != [None]:
                create_schema(app, settings)
                return
            tables = tuple(db.metadatas[None].sorted_tables)
            key = tuple(
                (id(table), table.name, len(table.columns), len(table.indexes), len(table.constraints))
                for table in tables
            )
            template = self._files.get(key)
            db.session.remove()
            db.engine.dispose()
            if template is None or not _closed_after_collecting(path):
                create_schema(app, settings)
                if template is None:
                    self._keep(app, path, key, tables)
                return
            copy = path.with_name(path.name + ".copy")
            shutil.copyfile(template, copy)
            os.replace(copy, path)  # a new file, never rewritten under a reader

    def _keep(self, app: Flask, path: Path, key: FingerPrint, tables: tuple[Table, ...]) -> None:
        db.session.remove()
        db.engine.dispose()  # the last connection closes: SQLite moves its write-ahead log into the file
        if not _closed_after_collecting(path):
            return
        template = self.folder / f"schema-{len(self._files)}.db"
        shutil.copyfile(path, template)
        self._files[key] = template
        self._tables[key] = tables


def _one_database_at(path: Path, databases: dict[str, DatabaseSettings]) -> bool:
    """Whether the app's only database is the writable SQLite file at ``path`` (overrides may name
    another, or make it read-only: ``create_schema`` leaves a read-only one alone)."""
    if len(databases) != 1 or next(iter(databases.values())).readonly:
        return False
    url = db.engine.url
    return url.get_backend_name() == "sqlite" and Path(url.database or "").resolve() == path.resolve()


def _closed_after_collecting(path: Path) -> bool:
    """:func:`_closed`, asked again after a garbage collection when a connection is still open: one left
    in a reference cycle (an app's session, a failed test's traceback) closes only when it is collected."""
    if _closed(path):
        return True
    gc.collect()
    return _closed(path)


def _closed(path: Path) -> bool:
    """Whether no file descriptor of this process points at ``path`` or its log, and the log is gone.

    False where /proc is missing (not Linux): then ``create_all`` always runs.
    """
    fds = Path("/proc/self/fd")
    if not fds.is_dir() or Path(f"{path}-wal").exists():
        return False
    real = path.resolve()
    names = {str(real), f"{real}-wal", f"{real}-shm", f"{real}-journal"}
    for fd in fds.iterdir():
        try:
            if os.readlink(fd) in names:
                return False
        except OSError:  # closed since the listing: it points at nothing any more
            continue
    return True
