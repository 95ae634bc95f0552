"""Alembic migrations: one history per named connection, kept in the project's ``migrations/<name>/versions``.

The default connection may be named anything in the configuration, so a project ships its history in
``migrations/default/versions``: that folder serves the default connection whatever its name, unless a
folder of the connection's own name exists (which then wins, as for every other connection).

The Alembic configuration is built in code: the environment (``migration_env/env.py``) ships with the
framework and receives the connection's engine and metadata, so a project needs no ``alembic.ini``.
A ``readonly`` connection is never migrated.

Each plugin loaded by the app has its own history in its package (``migrations/versions``) on the default
connection, recorded in its own version table (``alembic_version_<plugin>``); the project's history and
comparisons leave the plugins' tables out, and a plugin's see only its own tables.
"""

from __future__ import annotations

import logging
import re
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError
from flask import Flask, current_app
from sqlalchemy import MetaData, Table, column, create_engine, inspect, select
from sqlalchemy import table as table_clause
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from .config import DatabaseSettings
from .database import Base, db, project_model_tables
from .errors import ConexoosError
from .logs import RedactingFormatter
from .plugins import active_plugins, enabled_names, installed_plugins, plugin_model_tables
from .sessions import SESSION_TABLE

ENVIRONMENT_FOLDER = Path(__file__).with_name("migration_env")
FILE_TEMPLATE = "%(year)d_%(month).2d_%(day).2d_%(rev)s_%(slug)s"
VERSION_TABLE = "alembic_version"
PLUGIN_VERSION_TABLE = VERSION_TABLE + "_{name}"
FRAMEWORK_TABLES = frozenset({SESSION_TABLE, VERSION_TABLE})
"""Tables the framework creates itself; never scripted, never compared with a project's schema."""
SHOWN_DIFFERENCES = 3


REVISION_NOT_FOUND = re.compile(r"^(?:Can't locate revision|No such revision)")
"""Alembic's words for a revision its history does not have."""


class MigrationError(ConexoosError):
    """A migration command cannot run as asked (unknown or readonly connection, nothing to migrate)."""


class SchemaNotReady(MigrationError):
    """A database's schema is not the one this code needs; serving on it is refused (exit status 2)."""

    def __init__(self, problems: list[str], notes: list[str] | None = None) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
        self.notes = notes or []
        """What was done before the refusal (a database stamped at the revision its tables match)."""


@dataclass(frozen=True)
class MigrationTarget:
    """One named connection with what Alembic needs to migrate it."""

    database: DatabaseSettings
    engine: Engine
    metadata: MetaData
    versions: Path
    version_table: str = VERSION_TABLE
    plugin: str | None = None
    """The plugin whose history this is (None: the project's)."""
    owned_tables: frozenset[str] = frozenset()
    """A plugin's history: its own tables. The project's: the tables of plugins, which it leaves out."""

    @property
    def name(self) -> str:
        return self.database.name

    @property
    def label(self) -> str:
        """How messages name this history: the connection, or the plugin."""
        return f"plugin {self.plugin}" if self.plugin else self.name

    def includes(self, item: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        """Alembic's ``include_object`` for this history (see :func:`include_object`)."""
        if type_ != "table":
            return True
        if not include_object(item, name, type_, reflected, compare_to):
            return False
        return (name in self.owned_tables) == (self.plugin is not None)

    def scripts(
        self, left_alone: set[str], item: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        """Alembic's ``include_object`` when a script is written: :meth:`includes`, and never a table the
        database holds that no model of this history names (another app's sharing the database, or a model
        removed): its name is added to ``left_alone`` instead of a DROP being scripted, since the rows
        would go with it. Comparisons (:func:`adopt_unversioned`, a product's models-vs-migrations test)
        still see such a table."""
        if not self.includes(item, name, type_, reflected, compare_to):
            return False
        if type_ == "table" and reflected and compare_to is None:
            left_alone.add(str(name))
            return False
        return True

    def tables(self) -> list[Any]:
        """The model tables this history manages."""
        return [
            table
            for table in self.metadata.tables.values()
            if self.includes(table, table.name, "table", False, None)
        ]

    def columns(self) -> dict[str, frozenset[str]]:
        """Each of :meth:`tables` with its columns' names (those of the latest revision, once migrated)."""
        return {
            str(table.name): frozenset(str(column.name) for column in table.columns)
            for table in self.tables()
        }

    def own_tables(self) -> frozenset[str]:
        """The names of :meth:`tables` but the framework's own (``plugin_state``, ``mail_outbox``): those
        every project on the framework has, which tell nothing of which site a database is (all of them
        when the project has no models of its own)."""
        names = {str(table.name) for table in self.tables()}
        framework = {
            str(mapper.local_table.name)  # type: ignore[attr-defined]
            for mapper in Base.registry.mappers
            if mapper.class_.__module__.startswith("conexoos.framework.")
        }
        return frozenset(names - framework or names)

    def has_scripts(self) -> bool:
        """Whether at least one migration script exists for this connection."""
        return self.versions.is_dir() and any(
            path.name != "__init__.py" for path in self.versions.glob("*.py")
        )

    def alembic_config(self, left_alone: set[str] | None = None) -> Config:
        """An Alembic configuration for this connection, built without an ini file.

        ``left_alone`` when a script is written: no file when nothing changed, and the names of the tables
        no model names are added to it rather than scripted as dropped (see :meth:`scripts`).
        """
        config = Config(stdout=sys.stdout)
        for option, value in (
            ("script_location", str(ENVIRONMENT_FOLDER)),
            ("version_locations", str(self.versions)),
            ("path_separator", "os"),
            ("file_template", FILE_TEMPLATE),
            ("version_table", self.version_table),
        ):
            # The options go through configparser, where "%" starts an interpolation.
            config.set_main_option(option, value.replace("%", "%%"))
        config.attributes.update(
            engine=self.engine,
            metadata=self.metadata,
            skip_empty=left_alone is not None,
            include_object=self.includes if left_alone is None else partial(self.scripts, left_alone),
        )
        return config

    def upgrade_command(self) -> str:
        """The command an operator runs to bring this connection (or plugin) to head."""
        return "conexoos db upgrade" if self.plugin else f"conexoos db upgrade --database {self.name}"

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
        plugin_tables = plugin_model_tables() if database.is_default else frozenset()
        yield MigrationTarget(
            database, db.engines[key], metadata, migrations_folder(app, database), owned_tables=plugin_tables
        )


@contextmanager
def plugin_targets(app: Flask) -> Iterator[list[MigrationTarget]]:
    """The history of each plugin the app loaded, on the default connection, by name (a plugin without
    scripts has its tables created by `run`/`serve`, as a project without scripts does)."""
    with migration_target(app) as project:
        yield [
            replace(
                project,
                versions=active.migrations,
                version_table=PLUGIN_VERSION_TABLE.format(name=active.name),
                plugin=active.name,
                owned_tables=plugin_model_tables(active.plugin.module),
            )
            for active in active_plugins(app).plugins
        ]


@contextmanager
def plugin_target(app: Flask, name: str) -> Iterator[MigrationTarget]:
    """The history of the loaded plugin ``name``; raises :class:`MigrationError` when it is not loaded."""
    with plugin_targets(app) as targets:
        found = next((target for target in targets if target.plugin == name), None)
        if found is None:
            loaded = ", ".join(active_plugins(app).names) or "none"
            raise MigrationError(
                f"--plugin {name!r}: no such plugin is active (active: {loaded}); enable it with "
                f"`conexoos plugins enable {name}` and start the app again"
            )
        yield found


def leaving_out_installed_plugins(target: MigrationTarget) -> MigrationTarget:
    """``target``, when it is the project's history on the default connection, leaving out the tables of
    the installed plugins this app did not load too (:func:`_unloaded_plugin_tables`): only the loaded
    ones' models are imported, and a disabled plugin's tables, which keep their rows until it is enabled
    again, would otherwise be scripted as tables to drop."""
    if target.plugin is not None or not target.database.is_default:
        return target
    return replace(target, owned_tables=target.owned_tables | _unloaded_plugin_tables(target))


def _unloaded_plugin_tables(target: MigrationTarget) -> frozenset[str]:
    """The tables of each installed plugin whose history the database records (``alembic_version_<name>``)
    but whose models are not loaded: its revisions replayed on a scratch SQLite database, so no code of a
    disabled plugin (perhaps made for another project) is imported. Raises :class:`MigrationError` for a
    history that cannot be replayed there."""
    tables: set[str] = set()
    installed = installed_plugins()
    for name, revision in _recorded_plugin_revisions(target).items():
        plugin = installed.get(name)
        if plugin is None:
            continue  # uninstalled: nothing here says which tables were its
        history = replace(
            target,
            versions=plugin.project().root / "migrations" / "versions",
            version_table=PLUGIN_VERSION_TABLE.format(name=name),
            plugin=name,
            owned_tables=frozenset(),
        )
        schema = _revision_schema(history, revision)
        if schema is None:
            raise MigrationError(
                f"plugin {name!r} is installed but not enabled, and this database holds its tables (its "
                f"history is at {revision}); they could not be told from the project's, since its history "
                f"does not run on SQLite: enable it (`conexoos plugins enable {name}`), then run this again"
            )
        tables |= set(schema.tables)
    return frozenset(tables)


def _recorded_plugin_revisions(target: MigrationTarget) -> dict[str, str]:
    """Each plugin's revision as its version table in the database records it (by plugin name)."""
    prefix = PLUGIN_VERSION_TABLE.format(name="")
    with target.engine.connect() as connection:
        names = [name for name in inspect(connection).get_table_names() if name.startswith(prefix)]
        recorded = {}
        for name in names:
            revision = connection.execute(
                select(column("version_num")).select_from(table_clause(name))
            ).scalar()
            if revision:
                recorded[name.removeprefix(prefix)] = str(revision)
    return recorded


@dataclass(frozen=True)
class WrittenMigration:
    """What :func:`make_migration` wrote."""

    revision: Path | None
    """The models' changes, under the message given (None when nothing changed)."""
    baseline: Path | None = None
    """The first revision of a database that had tables but no history: its tables as they are."""
    left_alone: tuple[str, ...] = ()
    """Tables the database holds that no model of the history names, which no script drops."""


def make_migration(target: MigrationTarget, message: str, rev_id: str | None = None) -> WrittenMigration:
    """Autogenerate a migration from the models; say what was written (no file when nothing changed).

    ``rev_id`` names the revision (a random id when None), as a product numbering its releases wants.
    A database that has tables but no history yet (made by ``conexoos run``) first gets a baseline
    revision that creates its tables as they are (see :func:`_write_baseline`), so that the history
    builds a new database and ``db upgrade`` records this one at the baseline. A table the database holds
    but no model names is never scripted as dropped (see :meth:`MigrationTarget.scripts`).
    """
    target.require_writable("migrate")
    target = leaving_out_installed_plugins(target)
    if not target.metadata.tables:
        # Comparing an empty model set with a real database would script a DROP of every table.
        raise MigrationError(
            f"database connection {target.name!r} has no models to migrate: put them in a module under "
            f"models/persistent and name it in DATABASE.{target.name}.models"
        )
    target.versions.mkdir(parents=True, exist_ok=True)
    if rev_id is not None:
        _require_new_revision_id(target, rev_id)
    _show_alembic_progress()
    left_alone: set[str] = set()
    baseline = None
    if not target.has_scripts() and not current_revisions(target) and _has_any_table(target):
        baseline = _write_baseline(target, message)
        revision = _revision_after_head(target, message, rev_id, left_alone)
    else:
        revision = command.revision(
            target.alembic_config(left_alone), message=message, autogenerate=True, rev_id=rev_id
        )
    return WrittenMigration(_written(revision), baseline, tuple(sorted(left_alone)))


def _written(revision: Any) -> Path | None:
    """The file of the one revision Alembic wrote (None when it wrote none)."""
    scripts = [revision] if isinstance(revision, Script) else [item for item in revision or [] if item]
    if len(scripts) > 1:
        raise MigrationError(f"expected one revision to be written, Alembic wrote {len(scripts)}")
    return Path(scripts[0].path) if scripts else None


BASELINE_MESSAGE = "tables made before migrations"


def _write_baseline(target: MigrationTarget, message: str) -> Path:
    """The first revision: the database's tables as they are, written against an empty database; its
    docstring keeps ``message``, which the models' changes since (if any) are written under.

    Written from the live tables rather than the models: a first revision written by comparing the models
    with those tables would hold only what changed since ``run`` made them, and could build no database.
    SQLite only: it compares with an empty SQLite database; a server's tables would be described in
    SQLite's terms.
    """
    if target.engine.dialect.name != "sqlite":
        raise MigrationError(
            f"database connection {target.name!r} has tables but no migration history: write the first "
            "revision against an empty database of the same kind (point the connection at a new, empty "
            "database, run `conexoos db migrate`), then `conexoos db upgrade` here records these tables "
            "at it when they match"
        )
    tables = MetaData()
    tables.reflect(bind=target.engine)
    for table in list(tables.tables.values()):
        if table.name in FRAMEWORK_TABLES or not target.includes(table, table.name, "table", True, None):
            tables.remove(table)
    scratch = create_engine("sqlite://", poolclass=StaticPool)
    try:
        config = replace(target, engine=scratch, metadata=tables).alembic_config(set())
        config.attributes["explanation"] = _baseline_explanation(message)
        written = _written(command.revision(config, message=BASELINE_MESSAGE, autogenerate=True))
    finally:
        scratch.dispose()
    if written is None:
        raise MigrationError(f"database connection {target.name!r}: no baseline was written of its tables")
    return written


def _baseline_explanation(message: str) -> str:
    """The paragraph of a baseline's docstring that says why it was written, keeping the message given."""
    return textwrap.fill(
        f'Written by `conexoos db migrate -m "{message}"` as the first revision of a database whose tables '
        "were made before any migration (by `conexoos run`): it creates them as they are. The models' "
        "changes since, when there were any, are the next revision, under that message.",
        width=100,
    )


def _revision_after_head(
    target: MigrationTarget, message: str, rev_id: str | None, left_alone: set[str]
) -> Any:
    """Autogenerate the models' changes against a scratch SQLite database brought to head (the baseline
    just written describes the live tables; Alembic would refuse the live database, not yet at head)."""
    scratch = create_engine("sqlite://", poolclass=StaticPool)
    try:
        on_scratch = replace(target, engine=scratch)
        with _quiet_alembic():
            command.upgrade(on_scratch.alembic_config(), "head")
        return command.revision(
            on_scratch.alembic_config(left_alone), message=message, autogenerate=True, rev_id=rev_id
        )
    finally:
        scratch.dispose()


def _require_new_revision_id(target: MigrationTarget, rev_id: str) -> None:
    """Refuse a ``--rev-id`` the history has already: Alembic would write a revision that follows itself,
    and every later command would fail on the loop."""
    scripts = ScriptDirectory.from_config(target.alembic_config())
    existing = next((script for script in scripts.walk_revisions() if script.revision == rev_id), None)
    if existing is not None:
        raise MigrationError(
            f"revision {rev_id} already exists ({Path(existing.path).name}) in the history of "
            f"{target.name!r}: give another --rev-id"
        )


def upgrade(target: MigrationTarget, revision: str = "head") -> str | None:
    """Apply migrations up to ``revision``; return a note when tables made before the migrations were adopted.

    A database with the project's tables but no migration recorded is first stamped with the revision its
    tables are (see :func:`adopt_unversioned`), so its rows are kept and only the later revisions run.
    """
    target.require_writable("upgrade")
    _require_scripts(target)
    _show_alembic_progress()
    note = None
    current = current_revisions(target)
    _require_known_current(target, current)
    if not current and _has_any_table(target):
        note = adopt_unversioned(target)
    with _known_revision_argument(target, revision):
        command.upgrade(target.alembic_config(), revision)
    if set(current_revisions(target)) == set(head_revisions(target)):
        try:
            expected = _app_model_tables(current_app)
            _require_model_tables(target, expected)
            _require_model_columns(target, expected)
        except SchemaNotReady as error:
            raise SchemaNotReady(error.problems, [note] if note else []) from None
    return note


def downgrade(target: MigrationTarget, revision: str = "-1") -> None:
    """Revert migrations down to ``revision`` (default: one step)."""
    target.require_writable("downgrade")
    _require_scripts(target)
    _show_alembic_progress()
    _require_known_current(target, current_revisions(target))
    with _known_revision_argument(target, revision):
        command.downgrade(target.alembic_config(), revision)


def stamp(target: MigrationTarget, revision: str = "head") -> None:
    """Record ``revision`` as applied without running it (for a schema created another way, or over a
    revision this version's migrations do not have)."""
    target.require_writable("stamp")
    _require_scripts(target)
    _show_alembic_progress()
    # A revision this version does not have (a newer release's) is replaced: stamping is the repair.
    replaced = bool(unknown_revisions(target, current_revisions(target)))
    with _known_revision_argument(target, revision):
        command.stamp(target.alembic_config(), revision, purge=replaced)


@contextmanager
def _known_revision_argument(target: MigrationTarget, revision: str) -> Iterator[None]:
    """Alembic's "Can't locate revision identified by 'x'" for a REVISION argument, said with the
    revisions there are."""
    try:
        yield
    except CommandError as error:
        if not REVISION_NOT_FOUND.match(str(error)):
            raise
        scripts = ScriptDirectory.from_config(target.alembic_config())
        every = [script.revision for script in scripts.walk_revisions()][::-1]  # oldest first
        listed = f"{every[0]} to {every[-1]}" if len(every) > 1 else ", ".join(every)
        raise MigrationError(
            f"{target.label} has no revision {revision!r}: its migrations run from {listed}; give one of "
            "them, head or base"
        ) from error


def _require_known_current(target: MigrationTarget, current: tuple[str, ...]) -> None:
    """Refuse a database at a revision this version's migrations do not have, as serving it is refused."""
    unknown = unknown_revisions(target, current)
    if unknown:
        raise MigrationError(newer_release_problem(target, unknown))


def unknown_revisions(target: MigrationTarget, current: tuple[str, ...]) -> list[str]:
    """The revisions of ``current`` the connection's migration scripts do not have (a newer release's)."""
    if not current or not target.has_scripts():
        return []
    scripts = ScriptDirectory.from_config(target.alembic_config())
    return [revision for revision in current if not _is_known(scripts, revision)]


def newer_release_problem(target: MigrationTarget, unknown: list[str]) -> str:
    return (
        f"database connection {target.name!r} is at revision {', '.join(unknown)}, which this version's "
        "migrations do not have (was it upgraded by a newer release?); serve it with that release, or "
        "downgrade it with that release first"
    )


def known_revisions(target: MigrationTarget) -> frozenset[str] | None:
    """Every revision of the connection's history (None when it has no scripts)."""
    if not target.has_scripts():
        return None
    scripts = ScriptDirectory.from_config(target.alembic_config())
    return frozenset(script.revision for script in scripts.walk_revisions())


def current_revisions(target: MigrationTarget) -> tuple[str, ...]:
    """The revisions recorded in the database (empty when none was applied)."""
    with target.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": target.version_table})
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
        return f"{target.label}: {applied} (no migration scripts in {target.versions})"
    if set(current) == set(heads):
        return f"{target.label}: {applied} (head)"
    if unknown_revisions(target, current):
        return (
            f"{target.label}: {applied} (not a revision of this version's migrations, whose head is "
            f"{', '.join(heads)}: was it upgraded by a newer release? Serve it with that release, or "
            "downgrade it with that release first)"
        )
    return f"{target.label}: {applied} (head is {', '.join(heads)}; run `{target.upgrade_command()}`)"


def history_lines(target: MigrationTarget) -> list[str]:
    """One line per revision of the history, newest first: its id, its message, and whether it is the
    head or the revision the database is at (none without scripts)."""
    if not target.has_scripts():
        return []
    scripts = ScriptDirectory.from_config(target.alembic_config())
    current, heads = set(current_revisions(target)), set(scripts.get_heads())
    lines = []
    for script in scripts.walk_revisions():
        marks = [
            mark
            for mark, yes in (("head", script.revision in heads), ("current", script.revision in current))
            if yes
        ]
        message = " ".join(script.doc.split()) or "(no message)"
        lines.append(f"{script.revision}  {message}" + (f"  ({', '.join(marks)})" if marks else ""))
    return lines


def prepare_databases(app: Flask) -> list[str]:
    """Check every writable connection before serving; return notes to show, or raise :class:`SchemaNotReady`.

    Nothing is ever altered behind the operator's back:

    - a connection without migration scripts gets its missing tables created (existing ones are untouched);
    - an empty database (no table but the framework's own) gets the migrations applied up to head (and
      so recorded); one that holds other tables but none of the models' is refused as behind;
    - tables made before the migrations (no ``alembic_version``) that are those of a revision are
      stamped with it (see :func:`adopt_unversioned`);
    - a database behind the migrations, at an unknown revision, or whose tables match no revision is
      refused with the command to run.
    """
    notes: list[str] = []
    problems: list[str] = []
    settings = app.extensions["conexoos"].settings
    expected = _app_model_tables(app)
    for database in settings.databases.values():
        if database.readonly:
            continue
        with migration_target(app, database.name) as target:
            try:
                note = _prepare(target, expected)
            except SchemaNotReady as error:
                problems.extend(error.problems)
                notes.extend(error.notes)
                continue
        if note:
            notes.append(note)
    if settings.databases and not problems:
        problems.extend(_prepare_plugins(app, notes, expected))
    if problems:
        raise SchemaNotReady(problems, notes)
    return notes


def _prepare_plugins(app: Flask, notes: list[str], expected: frozenset[str]) -> list[str]:
    """Each active plugin's history, prepared as a connection's is: never applied → upgraded to head."""
    problems: list[str] = []
    with plugin_targets(app) as targets:
        notes.extend(_enabled_but_gone())
        for target in targets:
            try:
                note = _prepare(target, expected)
            except SchemaNotReady as error:
                problems.extend(error.problems)
                notes.extend(error.notes)
                continue
            if note:
                notes.append(note)
    return problems


def _enabled_but_gone() -> list[str]:
    """A note for each plugin the database enables that is not installed any more: the site now serves
    without it (inside the app context)."""
    gone = sorted(enabled_names() - set(installed_plugins()))
    return [
        f"plugin {name!r} is enabled but not installed any more: the site serves without it; install it "
        f"again, or run `conexoos plugins disable {name}` (its tables and their rows are kept)"
        for name in gone
    ]


def _app_model_tables(app: Flask) -> frozenset[str]:
    """The tables the app's own models need: its project's, its active plugins', and the framework's mail
    outbox once the project called ``init_mail``. Models of other projects loaded in the same process
    (the test suite's) share SQLAlchemy's registry, and are not this app's."""
    tables = set(project_model_tables(app.extensions["conexoos"].project))
    for active in active_plugins(app).plugins:
        tables |= plugin_model_tables(active.plugin.module)
    if f"{__package__}.mail" in sys.modules:  # imported by a project that uses mail: nothing to import here
        from .mail.outbox import OUTBOX_TABLE
        from .mail.setup import MAIL_EXTENSION

        if MAIL_EXTENSION in app.extensions:
            tables.add(OUTBOX_TABLE)
    return frozenset(tables)


def _prepare(target: MigrationTarget, expected: frozenset[str]) -> str | None:
    if not target.has_scripts():
        target.metadata.create_all(bind=target.engine, tables=target.tables())
        return None
    note = None
    current = current_revisions(target)
    if not current and not _has_any_table(target):
        _require_empty(target)
        command.upgrade(target.alembic_config(), "head")
        return None
    if not current:
        note = adopt_unversioned(target)
        current = current_revisions(target)
    try:
        _require_head(target, current)
        _require_model_tables(target, expected)
        _require_model_columns(target, expected)
    except SchemaNotReady as error:
        raise SchemaNotReady(error.problems, [note] if note else []) from None
    return note


def _require_empty(target: MigrationTarget) -> None:
    """Refuse to create a database by its migrations unless it is empty: one holding any table but the
    framework's own is not, though none is of its models (another app's, or a table made by hand), and a
    migration may drop or alter such a table. A plugin's history needs none of its own tables only: the
    project's are there."""
    if target.plugin is not None:
        return
    held = _tables_held(target)
    if not held:
        return
    shown = ", ".join(held[:SHOWN_DIFFERENCES]) + (
        f" and {len(held) - SHOWN_DIFFERENCES} more" if len(held) > SHOWN_DIFFERENCES else ""
    )
    raise SchemaNotReady(
        [
            f"database connection {target.name!r} has no migration recorded but is not empty (it holds "
            f"{shown}, no table of its models), so its migrations are not applied on their own: run "
            f"`{target.upgrade_command()}` first (back up the database before, and review what the "
            f"migrations do to its tables), or `conexoos db stamp REVISION --database {target.name}` when "
            "its schema already is that of a revision"
        ]
    )


def _tables_held(target: MigrationTarget) -> list[str]:
    """The tables the database holds but the framework's own (sessions, version tables), by name."""
    names = inspect(target.engine).get_table_names()
    return sorted(name for name in names if include_object(None, name, "table", True, None))


def _require_model_tables(target: MigrationTarget, expected: frozenset[str]) -> None:
    """Refuse a database at head that lacks a table of the app's models: its history is not this release's
    (a table dropped by hand, a side build), or a model (or the mail outbox, once ``init_mail`` is called)
    was added without its migration. Each request using the table would fail. A table a model puts in
    an explicit schema is looked for there."""
    wanted = _model_tables(target, expected)
    if not wanted:
        return
    inspector = inspect(target.engine)
    existing = {  # one query a schema, not one a table
        schema: set(inspector.get_table_names(schema=schema)) for schema in {table.schema for table in wanted}
    }
    missing = sorted(_shown(table) for table in wanted if table.name not in existing[table.schema])
    if missing:
        raise SchemaNotReady([_missing_problem(target, "tables", missing)])


def _model_tables(target: MigrationTarget, expected: frozenset[str]) -> list[Table]:
    """The tables of ``target``'s history that the app's models need."""
    return [table for table in target.tables() if table.name in expected]


def _shown(table: Table) -> str:
    """``table``'s name as messages write it: with its schema when a model names one."""
    return f"{table.schema}.{table.name}" if table.schema else str(table.name)


COLUMNS_QUERY = {
    "sqlite": "SELECT m.name, p.name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p "
    "WHERE m.type = 'table'",
    "postgresql": "SELECT table_name, column_name FROM information_schema.columns "
    "WHERE table_schema = current_schema()",
    "mysql": "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = DATABASE()",
}
"""One query listing every column of every table in the connection's default schema, by dialect: far
cheaper at start-up than the inspector's one query a table (MariaDB's are slow)."""


def _require_model_columns(target: MigrationTarget, expected: frozenset[str]) -> None:
    """Refuse a database at head whose tables lack a column of the app's models: its history is not this
    release's (a side build that skipped a revision, a schema changed by hand), or a model column was
    added without its migration. Each query naming the column would fail. Columns the database has
    beyond the models' (a plugin's, another app's) are fine. Names are compared as the database compares
    them: exactly on PostgreSQL (a quoted ``"userName"`` is not ``username``), ignoring case elsewhere."""
    wanted = _model_tables(target, expected)
    if not wanted:
        return
    fold = _column_name_fold(target.engine.dialect.name)
    held = _database_columns(target, wanted, fold)
    missing = [
        f"{_shown(table)}.{column.name}"
        for table in sorted(wanted, key=_shown)
        if _shown(table) in held
        for column in sorted(table.columns, key=lambda column: str(column.name))
        if fold(str(column.name)) not in held[_shown(table)]
    ]
    if missing:
        raise SchemaNotReady([_missing_problem(target, "columns", missing)])


def _column_name_fold(dialect: str) -> Callable[[str], str]:
    """How ``dialect`` compares column names: PostgreSQL as written, SQLite and MySQL/MariaDB in any case."""
    return (lambda name: name) if dialect == "postgresql" else str.lower


def _database_columns(
    target: MigrationTarget, tables: list[Table], fold: Callable[[str], str]
) -> dict[str, set[str]]:
    """The columns the database holds for each of ``tables`` (by :func:`_shown`; tables it lacks are left
    out), names passed through ``fold``: the default schema's in one query, a table in an explicit schema
    through the inspector."""
    held = _default_schema_columns(target, {str(table.name) for table in tables if not table.schema}, fold)
    inspector = inspect(target.engine)
    for table in tables:
        if table.schema and inspector.has_table(table.name, schema=table.schema):
            found = inspector.get_columns(table.name, schema=table.schema)
            held[_shown(table)] = {fold(str(column["name"])) for column in found}
    return held


def _default_schema_columns(
    target: MigrationTarget, tables: set[str], fold: Callable[[str], str]
) -> dict[str, set[str]]:
    """The columns of each of ``tables`` in the connection's default schema (:data:`COLUMNS_QUERY`)."""
    if not tables:
        return {}
    dialect = target.engine.dialect.name
    if dialect == "mariadb":
        dialect = "mysql"
    if dialect not in COLUMNS_QUERY:
        inspector = inspect(target.engine)
        existing = set(inspector.get_table_names())
        return {
            name: {fold(str(found["name"])) for found in inspector.get_columns(name)}
            for name in tables
            if name in existing
        }
    held: dict[str, set[str]] = {}
    with target.engine.connect() as connection:
        rows = connection.exec_driver_sql(COLUMNS_QUERY[dialect]).all()
    for table, column_name in rows:
        held.setdefault(fold(str(table)), set()).add(fold(str(column_name)))
    return {name: held[fold(name)] for name in tables if fold(name) in held}


def _missing_problem(target: MigrationTarget, kind: str, missing: list[str]) -> str:
    """What to say of model ``kind`` ("tables", or "columns" named ``table.column``) the database lacks,
    and what to do: the migrations at head make them (the database's history is not this release's) or
    do not (a model changed without its migration)."""
    shown = ", ".join(missing[:SHOWN_DIFFERENCES]) + (
        f" and {len(missing) - SHOWN_DIFFERENCES} more" if len(missing) > SHOWN_DIFFERENCES else ""
    )
    said = f"database connection {target.name!r} is at head but lacks {kind} of the models ({shown})"
    plugin = f" --plugin {target.plugin}" if target.plugin else ""
    connection = "" if target.plugin or target.database.is_default else f" --database {target.name}"
    write = f"`conexoos db migrate{connection}{plugin} -m MESSAGE`, then run `{target.upgrade_command()}`"
    heads = head_revisions(target)
    scripted = schema_at(target, heads[0]) if len(heads) == 1 else None
    if scripted is not None and not any(_scripted(scripted, kind, item) for item in missing):
        return f"{said}, which its migrations do not make: write their migration with {write}"
    made = ", which this release's migrations make" if scripted is not None else ""
    unsure = (
        "" if scripted is not None else f" (if a model gained them since, write their migration: {write})"
    )
    return (
        f"{said}{made}: the database's history is not this release's "
        "(another build upgraded it along a history without the revision that adds them, or its schema was "
        "changed by hand). Restore a backup taken before that and run "
        f"`{target.upgrade_command()}` with this release, or repair it: add those {kind} as this "
        f"release's migrations make them{unsure}. Until then every query naming them fails"
    )


def _scripted(schema: dict[str, frozenset[str]], kind: str, item: str) -> bool:
    """Whether ``schema`` holds ``item``: a table, or (``kind`` "columns") a column named ``table.column``."""
    if kind == "tables":
        return item in schema
    table, column_name = item.split(".", 1)
    return column_name in schema.get(table, frozenset())


def _require_head(target: MigrationTarget, current: tuple[str, ...]) -> None:
    heads = head_revisions(target)
    if set(current) == set(heads):
        return
    unknown = unknown_revisions(target, current)
    if unknown:
        raise SchemaNotReady([newer_release_problem(target, unknown)])
    raise SchemaNotReady(
        [
            f"database connection {target.name!r} is at revision {', '.join(current)} but this version needs "
            f"{', '.join(heads)}: run `{target.upgrade_command()}` first (back up the database before)"
        ]
    )


def _is_known(scripts: ScriptDirectory, revision: str) -> bool:
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


def adopt_unversioned(target: MigrationTarget) -> str:
    """Stamp a database whose tables were made before any migration was recorded; return what was done.

    Its tables are compared, with Alembic's autogenerate comparison, first with those the first revision
    (the baseline) creates, then with the models: the first match is recorded in ``alembic_version``, so
    ``db upgrade`` then runs only the later revisions on the existing rows. Nothing else is written.
    Raises :class:`SchemaNotReady` when the tables match neither.
    """
    target = leaving_out_installed_plugins(target)
    scripts = ScriptDirectory.from_config(target.alembic_config())
    bases = scripts.get_bases()
    base = bases[0] if len(bases) == 1 else None
    base_differences = _differences(target, _revision_schema(target, base)) if base else None
    if base and base_differences == []:
        revision, what = base, f"those of revision {base}, the first migration"
    elif not _differences(target, target.metadata, compare_type=True):
        revision, what = "heads", "those of the models"
    else:
        raise SchemaNotReady([_unrecognised(target, base, base_differences)])
    command.stamp(target.alembic_config(), revision)
    recorded = ", ".join(current_revisions(target))
    return (
        f"database connection {target.name!r}: its tables, made before migrations were recorded, are "
        f"{what}; recorded as revision {recorded}"
    )


def _unrecognised(target: MigrationTarget, base: str | None, differences: list[Any] | None) -> str:
    compared = f"those of revision {base} (the first migration)" if base else "those of a first migration"
    found = "; ".join(_describe_difference(item) for item in (differences or [])[:SHOWN_DIFFERENCES])
    return (
        f"database connection {target.name!r} has tables but no migration recorded, and they are neither "
        f"{compared} nor those of the models{' (' + found + ')' if found else ''}: bring the schema to a "
        f"revision by hand, then run `conexoos db stamp REVISION --database {target.name}`"
    )


def schema_at(target: MigrationTarget, revision: str) -> dict[str, frozenset[str]] | None:
    """The tables, each with its columns' names, that a database of ``target``'s history holds at
    ``revision`` (its migrations replayed on a scratch SQLite database; the framework's own left out);
    None when they cannot run there."""
    schema = _revision_schema(target, revision)
    if schema is None:
        return None
    return {
        str(name): frozenset(str(column.name) for column in table.columns)
        for name, table in schema.tables.items()
    }


def _revision_schema(target: MigrationTarget, revision: str) -> MetaData | None:
    """The tables ``revision`` and those before it create, run on a scratch in-memory SQLite database.

    None when the revisions cannot run on SQLite (then the database is compared with the models only).
    """
    scratch = create_engine("sqlite://", poolclass=StaticPool)
    try:
        with _quiet_alembic():
            command.upgrade(replace(target, engine=scratch).alembic_config(), revision)
        schema = MetaData()
        schema.reflect(bind=scratch, resolve_fks=False)  # a plugin's table may refer to the project's
    except (SQLAlchemyError, CommandError, NotImplementedError):
        return None
    finally:
        scratch.dispose()
    for name in FRAMEWORK_TABLES & set(schema.tables):
        schema.remove(schema.tables[name])
    return schema


def _differences(target: MigrationTarget, schema: MetaData | None, compare_type: bool = False) -> list[Any]:
    """What Alembic's autogenerate would change to make the database's tables those of ``schema``.

    Types are compared only against the models: a schema reflected from SQLite names its types the
    SQLite way, and tables, columns, nullability, keys and indexes already tell one release from another.
    """
    if schema is None:
        return [("unknown", "the first revision cannot run on SQLite to be compared")]
    with target.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": compare_type, "include_object": target.includes, "target_metadata": schema},
        )
        return list(compare_metadata(context, schema))


def _describe_difference(difference: Any) -> str:
    """One short phrase for an item of :func:`alembic.autogenerate.compare_metadata`'s list."""
    if isinstance(difference, list):  # column changes come grouped
        difference = difference[0]
    kind = difference[0]
    if kind == "unknown":
        return str(difference[1])
    if kind in ("add_table", "remove_table"):
        state = "missing" if kind == "add_table" else "not expected"
        return f"table {difference[1].name} {state}"
    if kind in ("add_column", "remove_column"):
        state = "missing" if kind == "add_column" else "not expected"
        return f"column {difference[2]}.{difference[3].name} {state}"
    if kind.startswith("modify_"):
        return f"column {difference[2]}.{difference[3]}: {kind.removeprefix('modify_')} differs"
    if kind.startswith(("add_", "remove_")):
        state = "missing" if kind.startswith("add_") else "not expected"
        name = getattr(difference[1], "name", None)
        return f"{kind.split('_', 1)[1]} {name} {state}" if name else f"{kind.split('_', 1)[1]} {state}"
    return str(kind)


def include_object(item: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
    """Leave the framework's own tables (sessions, ``alembic_version`` and the plugins' version tables) out
    of scripts and comparisons."""
    if type_ != "table":
        return True
    return name not in FRAMEWORK_TABLES and not (name or "").startswith(VERSION_TABLE + "_")


@contextmanager
def _quiet_alembic() -> Iterator[None]:
    logger = logging.getLogger("alembic")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _has_any_table(target: MigrationTarget) -> bool:
    inspector = inspect(target.engine)
    tables = target.tables()
    return any(inspector.has_table(table.name, schema=table.schema) for table in tables)


def _require_scripts(target: MigrationTarget) -> None:
    if not target.has_scripts():
        raise MigrationError(
            f"database connection {target.name!r} has no migration scripts in {target.versions}; "
            f"create one with `conexoos db migrate --database {target.name} -m MESSAGE`"
        )


ALEMBIC_CHATTER = ("Context impl ", "Will assume ", "setting up autogenerate plugin ")


ALEMBIC_CHATTER_LOGGERS = ("alembic.runtime.migration", "alembic.runtime.plugins")


def _skip_alembic_chatter(record: logging.LogRecord) -> bool:
    """Keep what Alembic did; drop the lines it repeats on every connection."""
    return not str(record.msg).startswith(ALEMBIC_CHATTER)


def _quiet_alembic_chatter() -> None:
    """Drop Alembic's repeated lines wherever its log goes: the logs write INFO lines of every logger."""
    for name in ALEMBIC_CHATTER_LOGGERS:
        logging.getLogger(name).addFilter(_skip_alembic_chatter)


_quiet_alembic_chatter()


class _ProgressHandler(logging.StreamHandler):
    """Writes Alembic's progress to the stderr of the moment (which a test runner may have replaced)."""


def _show_alembic_progress() -> None:
    """Let Alembic's INFO lines ("Running upgrade ...", "Detected added table ...") reach the terminal.

    Does nothing when the application already sends Alembic's log somewhere. They are written once, their
    secrets hidden as in the logs (not again by the root logger's handlers, which write app.log or stderr).
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
    handler.setFormatter(RedactingFormatter("%(message)s", None))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
