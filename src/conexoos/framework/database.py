"""Named database connections through Flask-SQLAlchemy binds.

The default connection is Flask-SQLAlchemy's default bind; every other connection is a bind of the same
name. Models for a named connection declare ``__bind_key__ = "<name>"``. A ``readonly`` connection never
gets a schema and refuses writes with :class:`ReadOnlyDatabaseError`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Table, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Mapper

from .config import DatabaseSettings, Settings
from .database_timeouts import bound_request_statements, engine_options, lock_timeout_statement
from .errors import ConfigError, ReadOnlyDatabaseError
from .pool_liveness import check_on_checkout, checked_without_round_trip
from .project import Project, import_project_module


class Base(DeclarativeBase):
    """Declarative base of every model, whichever connection it lives on."""


db = SQLAlchemy(model_class=Base)
"""The one Flask-SQLAlchemy extension; import it in models as ``from conexoos.framework import db``."""

READONLY_SESSION = {
    "sqlite": "PRAGMA query_only = ON",
    "postgresql": "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
    "mysql": "SET SESSION TRANSACTION READ ONLY",
    "mariadb": "SET SESSION TRANSACTION READ ONLY",
}
"""Per dialect, the statement that makes a connection's session refuse writes on the server side."""
WRITE_KEYWORDS = frozenset(
    {
        "INSERT",
        "UPDATE",
        "DELETE",
        "REPLACE",
        "MERGE",
        "CREATE",
        "DROP",
        "ALTER",
        "TRUNCATE",
        "GRANT",
        "REVOKE",
        "UPSERT",
    }
)


NO_DATABASE_URL = "sqlite://"
"""Without any connection (``DATABASE: {}``), Flask-SQLAlchemy still needs an engine: an in-memory one that
no model uses (:func:`require_database_for_models` refuses a project with models) and nothing writes."""


def configure_database(app: Flask, settings: Settings) -> None:
    """Put the connections into Flask's config; Flask-SQLAlchemy creates the engines in init_app."""
    if not settings.databases:
        app.config.setdefault("SQLALCHEMY_DATABASE_URI", NO_DATABASE_URL)
        return
    default = settings.default_database
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", default.url)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(default))
    binds = {
        db_settings.name: {"url": db_settings.url, **_engine_options(db_settings)}
        for db_settings in settings.databases.values()
        if not db_settings.is_default
    }
    app.config.setdefault("SQLALCHEMY_BINDS", binds)


def init_database(app: Flask, settings: Settings) -> None:
    """Create the engines and attach the readonly guard, SQLite pragmas and the check of a pooled
    PostgreSQL connection (``pool_liveness.py``)."""
    db.init_app(app)
    with app.app_context():
        for db_settings in settings.databases.values():
            engine = db.engines[db_settings.bind_key]
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
            _bound_waits(engine, db_settings)
            if checked_without_round_trip(engine.url):
                check_on_checkout(engine)
            if db_settings.readonly:
                _guard_readonly(engine, db_settings.name)


def import_models(project: Project, settings: Settings) -> None:
    """Import each connection's ``models`` module and check that its models are bound to it."""
    forget_unloaded_models()
    persistent = _persistent_package(project)
    for db_settings in settings.databases.values():
        if not db_settings.models:
            continue
        if persistent is None:
            raise ConfigError(
                [
                    f"DATABASE.{db_settings.name}.models: {db_settings.models!r} needs a "
                    "models/persistent package in the project"
                ]
            )
        module_name = project.find_module(persistent, db_settings.models)
        if module_name is None:
            raise ConfigError(
                [
                    f"DATABASE.{db_settings.name}.models: no module {persistent}."
                    f"{db_settings.models} in the project"
                ]
            )
        import_project_module(module_name)
        _check_bindings(module_name, db_settings)


def require_database_for_models(project: Project, settings: Settings) -> None:
    """With no connection configured, refuse a project that has models (they would have nowhere to live)."""
    if settings.databases:
        return
    persistent = _persistent_package(project)
    if persistent is not None:
        import_project_module(persistent)
    names = sorted(mapper.class_.__name__ for mapper in Base.registry.mappers if _in_project(mapper, project))
    if names:
        raise ConfigError(
            [
                f"DATABASE: no connection is configured, but the project has models ({', '.join(names)}); "
                "add one, e.g. DATABASE: {default: main, main: {driver: sqlite, database: app.db}}"
            ]
        )


def project_model_tables(project: Project) -> frozenset[str]:
    """Names of the tables of the models defined in ``project``'s own files (not another project's models
    that share the process's registry, nor the framework's or a plugin's)."""
    return frozenset(
        str(mapper.local_table.name)  # type: ignore[attr-defined]
        for mapper in Base.registry.mappers
        if _in_project(mapper, project)
    )


def _in_project(mapper: Mapper[Any], project: Project) -> bool:
    module = sys.modules.get(mapper.class_.__module__)
    location = getattr(module, "__file__", None)
    return location is not None and Path(location).resolve().is_relative_to(project.root)


_mapped_models: dict[type, ModuleType | None] = {}
"""Every model class with the module it was defined in. The registry holds classes weakly: a class collected
after its project's modules were dropped would otherwise leave its Table behind in the metadata."""


@event.listens_for(Mapper, "instrument_class")
def _remember_model(_mapper: Mapper[Any], model: type) -> None:
    _mapped_models[model] = sys.modules.get(model.__module__)


def forget_unloaded_models() -> None:
    """Forget the models whose module was unloaded, i.e. those of a previously loaded project.

    ``db`` is shared by every app of the process: without this, a second project's model of the same table
    fails with "Table ... is already defined", and the first project's tables get created in its databases.
    """
    for model, module in list(_mapped_models.items()):
        if sys.modules.get(model.__module__) is not module:
            del _mapped_models[model]
            mapper: Any = sa_inspect(model, raiseerr=False)
            if isinstance(mapper, Mapper):
                _unmap(mapper)
    for mapper in list(Base.registry.mappers):
        if mapper.class_.__module__ not in sys.modules:
            _unmap(mapper)


def _unmap(mapper: Mapper[Any]) -> None:
    table = mapper.local_table
    if isinstance(table, Table) and table.metadata.tables.get(table.key) is table:
        table.metadata.remove(table)
    # SQLAlchemy has no public call to unmap one class; this is what registry.dispose() does for each.
    registry, manager = mapper.registry, mapper.class_manager
    registry._managers.pop(manager, None)
    registry._dispose_manager_and_mapper(manager)


def _persistent_package(project: Project) -> str | None:
    models = project.find_module(None, "models")
    return project.find_module(models, "persistent") if models else None


def _check_bindings(module_name: str, db_settings: DatabaseSettings) -> None:
    for mapper in Base.registry.mappers:
        model = mapper.class_
        if model.__module__ != module_name:
            continue
        bound = getattr(model, "__bind_key__", None)
        if bound != db_settings.bind_key:
            expected = "no __bind_key__" if db_settings.is_default else f"__bind_key__ = {db_settings.name!r}"
            raise ConfigError(
                [
                    f"DATABASE.{db_settings.name}.models: model {model.__name__} in {module_name} "
                    f"has __bind_key__ = {bound!r}; models on this connection need {expected}"
                ]
            )


CLIENT_SIDE_AUTOCOMMIT = frozenset({"postgresql"})
"""Dialects whose driver switches autocommit on and off without a round trip (psycopg)."""


@contextmanager
def reading() -> Iterator[Connection]:
    """A connection to the default database for reads whose rows are kept as plain values, not entities
    (the public page, ``/go``): no identity map, no change tracking, no refresh after a commit.

    Inside a request that already holds a session transaction, that transaction's connection (its pending
    changes flushed first), so the reads see what it wrote. Otherwise a connection of its own from the
    pool, back in it when the block ends; on PostgreSQL in autocommit, so that no ``BEGIN`` precedes the
    first statement and no ``ROLLBACK`` follows the last (two round trips of the four of a page); each
    statement sees its own snapshot, as it does under ``READ COMMITTED`` in a transaction anyway.
    """
    # A request that has not used the session yet has none: none is made (making one and closing it at
    # the request's end cost more than the read).
    session = db.session() if db.session.registry.has() else None
    if session is not None and session.in_transaction():
        if session.autoflush:
            session.flush()
        yield session.connection()
        return
    with db.engine.connect() as connection:
        if connection.dialect.name in CLIENT_SIDE_AUTOCOMMIT:
            connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


def create_schema(app: Flask, settings: Settings) -> None:
    """Create missing tables on every connection that is not readonly (never alters existing ones)."""
    keys = [db_settings.bind_key for db_settings in settings.databases.values() if not db_settings.readonly]
    with app.app_context():
        for key in keys:
            if key is None:
                db.metadatas[None].create_all(bind=db.engines[None])
            elif key in db.metadatas:
                db.metadatas[key].create_all(bind=db.engines[key])


def dispose_engines(app: Flask) -> None:
    """Drop pooled connections inherited from a parent process (call after fork)."""
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def _engine_options(db_settings: DatabaseSettings) -> dict[str, Any]:
    if db_settings.url.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": 30}}
    return engine_options(db_settings.url, db_settings.timeouts)


def _bound_waits(engine: Engine, db_settings: DatabaseSettings) -> None:
    """Bound lock waits on the server session and, in web requests, each statement (database_timeouts)."""
    statement = lock_timeout_statement(engine.dialect.name, db_settings.timeouts.lock)
    if statement is not None:
        event.listen(engine, "connect", lambda connection, _record: _run_on_connect(connection, statement))
    bound_request_statements(engine, db_settings.timeouts.request)


def connect_timeout_args(url: URL, seconds: int) -> dict[str, int]:
    """The driver's connect-timeout argument (psycopg, PyMySQL and mysqlclient name it alike), unless the
    URL sets one; other drivers get none rather than an argument they might refuse."""
    if url.get_backend_name() not in ("postgresql", "mysql", "mariadb") or "connect_timeout" in url.query:
        return {}
    return {"connect_timeout": seconds}


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL lets readers proceed while one writer commits; foreign keys are off by default in SQLite.
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL never corrupts the database; it skips the fsync on each commit (7 ms here).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _guard_readonly(engine: Engine, name: str) -> None:
    """Refuse writes twice: a clear error for ordinary statements, and a read-only server session for
    whatever the keyword check cannot see (a leading comment, a CTE)."""

    def refuse_writes(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        keyword = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if keyword in WRITE_KEYWORDS:
            raise ReadOnlyDatabaseError(
                f"database connection {name!r} is readonly (DATABASE.{name}.readonly: true); "
                f"{keyword} refused"
            )

    event.listen(engine, "before_cursor_execute", refuse_writes)
    statement = READONLY_SESSION.get(engine.dialect.name)
    if statement is not None:
        event.listen(engine, "connect", lambda connection, _record: _run_on_connect(connection, statement))


def _run_on_connect(dbapi_connection: Any, statement: str) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(statement)
    cursor.close()
    dbapi_connection.commit()  # a SET rolled back with its transaction would be undone
