"""Alembic migrations: one history per named connection, kept in the project's ``migrations/<name>/versions``.

The default connection may be named anything in the configuration, so a project ships its history in
``migrations/default/versions``: that folder serves the default connection whatever its name, unless a
folder of the connection's own name exists (which then wins, as for every other connection).

The Alembic configuration is built in code: the environment (``migration_env/env.py``) ships with the
framework and receives the connection's engine and metadata, so a project needs no ``alembic.ini``.
A ``readonly`` connection is never migrated.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from flask import Flask
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Engine

from .config import DatabaseSettings
from .database import db
from .errors import ConexoosError

ENVIRONMENT_FOLDER = Path(__file__).with_name("migration_env")
FILE_TEMPLATE = "%(year)d_%(month).2d_%(day).2d_%(rev)s_%(slug)s"
VERSION_TABLE = "alembic_version"


class MigrationError(ConexoosError):
    """A migration command cannot run as asked (unknown or readonly connection, nothing to migrate)."""


@dataclass(frozen=True)
class MigrationTarget:
    """One named connection with what Alembic needs to migrate it."""

    database: DatabaseSettings
    engine: Engine
    metadata: MetaData
    versions: Path

    @property
    def name(self) -> str:
        return self.database.name

    def has_scripts(self) -> bool:
        """Whether at least one migration script exists for this connection."""
        return self.versions.is_dir() and any(
            path.name != "__init__.py" for path in self.versions.glob("*.py")
        )

    def alembic_config(self, skip_empty: bool = False) -> Config:
        """An Alembic configuration for this connection, built without an ini file."""
        config = Config(stdout=sys.stdout)
        for option, value in (
            ("script_location", str(ENVIRONMENT_FOLDER)),
            ("version_locations", str(self.versions)),
            ("path_separator", "os"),
            ("file_template", FILE_TEMPLATE),
            ("version_table", VERSION_TABLE),
        ):
            # The options go through configparser, where "%" starts an interpolation.
            config.set_main_option(option, value.replace("%", "%%"))
        config.attributes.update(engine=self.engine, metadata=self.metadata, skip_empty=skip_empty)
        return config

    def require_writable(self, action: str) -> None:
        """Refuse to change the schema of a readonly connection."""
        if self.database.readonly:
            raise MigrationError(
                f"database connection {self.name!r} is readonly (DATABASE.{self.name}.readonly: true); "
                f"{action} refused. Set readonly: false to manage its schema here."
            )


DEFAULT_FOLDER = "default"
"""Folder under ``migrations/`` of the default connection's history when none has the connection's name."""


def migrations_folder(app: Flask, database: DatabaseSettings) -> Path:
    """Where the migration scripts of a connection live.

    ``<project>/migrations/<name>/versions``; for the default connection, ``migrations/default/versions``
    when that folder exists and no folder of its own name does.
    """
    root = app.extensions["conexoos"].project.root / "migrations"
    own = root / database.name / "versions"
    shipped = root / DEFAULT_FOLDER / "versions"
    if database.is_default and not own.is_dir() and shipped.is_dir():
        return shipped
    return own


@contextmanager
def migration_target(app: Flask, name: str | None = None) -> Iterator[MigrationTarget]:
    """Yield the target for connection ``name`` (default: the default connection) inside an app context."""
    settings = app.extensions["conexoos"].settings
    if name is None:
        database = settings.default_database
    elif name in settings.databases:
        database = settings.databases[name]
    else:
        known = ", ".join(sorted(settings.databases)) or "none"
        raise MigrationError(f"--database {name!r}: no such connection in DATABASE; configured: {known}")
    with app.app_context():
        key = database.bind_key
        metadata = db.metadatas.get(key) or MetaData()
        yield MigrationTarget(database, db.engines[key], metadata, migrations_folder(app, database))


def make_migration(target: MigrationTarget, message: str) -> Path | None:
    """Autogenerate a migration from the models; return its file, or None when nothing changed."""
    target.require_writable("migrate")
    if not target.metadata.tables:
        # Comparing an empty model set with a real database would script a DROP of every table.
        raise MigrationError(
            f"database connection {target.name!r} has no models to migrate: put them in a module under "
            f"models/persistent and name it in DATABASE.{target.name}.models"
        )
    target.versions.mkdir(parents=True, exist_ok=True)
    _show_alembic_progress()
    written = command.revision(target.alembic_config(skip_empty=True), message=message, autogenerate=True)
    scripts = [written] if isinstance(written, Script) else [item for item in written or [] if item]
    return Path(scripts[0].path) if scripts else None


def upgrade(target: MigrationTarget, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    target.require_writable("upgrade")
    _require_scripts(target)
    _show_alembic_progress()
    command.upgrade(target.alembic_config(), revision)


def downgrade(target: MigrationTarget, revision: str = "-1") -> None:
    """Revert migrations down to ``revision`` (default: one step)."""
    target.require_writable("downgrade")
    _require_scripts(target)
    _show_alembic_progress()
    command.downgrade(target.alembic_config(), revision)


def stamp(target: MigrationTarget, revision: str = "head") -> None:
    """Record ``revision`` as applied without running it (for a schema created another way)."""
    target.require_writable("stamp")
    _require_scripts(target)
    _show_alembic_progress()
    command.stamp(target.alembic_config(), revision)


def current_revisions(target: MigrationTarget) -> tuple[str, ...]:
    """The revisions recorded in the database (empty when none was applied)."""
    with target.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return tuple(context.get_current_heads())


def head_revisions(target: MigrationTarget) -> tuple[str, ...]:
    """The latest revisions of the connection's migration scripts (empty when there are none)."""
    if not target.has_scripts():
        return ()
    return tuple(ScriptDirectory.from_config(target.alembic_config()).get_heads())


def describe_state(target: MigrationTarget) -> str:
    """One line saying where the database stands against its migration scripts."""
    current, heads = current_revisions(target), head_revisions(target)
    applied = ", ".join(current) if current else "no migration applied"
    if not heads:
        return f"{target.name}: {applied} (no migration scripts in {target.versions})"
    if set(current) == set(heads):
        return f"{target.name}: {applied} (head)"
    return f"{target.name}: {applied} (head is {', '.join(heads)}; run `conexoos db upgrade`)"


def prepare_databases(app: Flask) -> list[str]:
    """Bring every writable connection to a usable schema before serving; return warnings to show.

    A connection without migration scripts gets its missing tables created. One with scripts is
    upgraded when its database is empty, and otherwise left alone with a warning if it is behind.
    """
    warnings: list[str] = []
    settings = app.extensions["conexoos"].settings
    for database in settings.databases.values():
        if database.readonly:
            continue
        with migration_target(app, database.name) as target:
            warning = _prepare(target)
        if warning:
            warnings.append(warning)
    return warnings


def _prepare(target: MigrationTarget) -> str | None:
    if not target.has_scripts():
        target.metadata.create_all(bind=target.engine)
        return None
    current, heads = current_revisions(target), head_revisions(target)
    if set(current) == set(heads):
        return None
    if not current and not _has_any_table(target):
        command.upgrade(target.alembic_config(), "head")
        return None
    if not current:
        return (
            f"database connection {target.name!r} has tables but no migration recorded: if they match the "
            f"models run `conexoos db stamp head --database {target.name}`, else `conexoos db upgrade "
            f"--database {target.name}`"
        )
    return (
        f"database connection {target.name!r} is at {', '.join(current)} but the migrations' head is "
        f"{', '.join(heads)}: run `conexoos db upgrade --database {target.name}`"
    )


def _has_any_table(target: MigrationTarget) -> bool:
    inspector = inspect(target.engine)
    tables = target.metadata.tables.values()
    return any(inspector.has_table(table.name, schema=table.schema) for table in tables)


def _require_scripts(target: MigrationTarget) -> None:
    if not target.has_scripts():
        raise MigrationError(
            f"database connection {target.name!r} has no migration scripts in {target.versions}; "
            f"create one with `conexoos db migrate --database {target.name} -m MESSAGE`"
        )


ALEMBIC_CHATTER = ("Context impl ", "Will assume ")


def _skip_alembic_chatter(record: logging.LogRecord) -> bool:
    """Keep what Alembic did; drop the lines it repeats on every connection."""
    return not str(record.msg).startswith(ALEMBIC_CHATTER)


class _ProgressHandler(logging.StreamHandler):
    """Writes Alembic's progress to the stderr of the moment (which a test runner may have replaced)."""


def _show_alembic_progress() -> None:
    """Let Alembic's INFO lines ("Running upgrade ...", "Detected added table ...") reach the terminal.

    Does nothing when the application already sends Alembic's log somewhere.
    """
    logger = logging.getLogger("alembic")
    ours = [handler for handler in logger.handlers if isinstance(handler, _ProgressHandler)]
    others = [
        handler
        for handler in logger.handlers
        if not isinstance(handler, (_ProgressHandler, logging.NullHandler))
    ]
    if others:
        return
    for handler in ours:
        logger.removeHandler(handler)
    handler = _ProgressHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(_skip_alembic_chatter)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
