"""Alembic environment of one named connection.

``conexoos.framework.migrations`` runs it with ``config.attributes`` holding the connection's ``engine``
and ``metadata`` (its Flask-SQLAlchemy bind), so no ``alembic.ini`` and no URL in a file are needed, and
``include_object``, which keeps the framework's own tables (sessions) out of the scripts and, for a
plugin's history, keeps to the plugin's tables (and, when a script is written, leaves alone a table no
model names rather than scripting its DROP); the ``version_table`` option names where it is recorded.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Connection, Engine

config = context.config
engine: Engine = config.attributes["engine"]
metadata: MetaData = config.attributes["metadata"]


def _drop_empty_revision(_context: Any, _revision: Any, directives: list[Any]) -> None:
    """With ``skip_empty``, write no file when autogenerate found no change."""
    if config.attributes.get("skip_empty") and directives and directives[0].upgrade_ops.is_empty():
        directives[:] = []


def _import_custom_types(type_: str, obj: Any, autogen_context: Any) -> Literal[False]:
    """Import the module of every column type that is not SQLAlchemy's own (a project's TypeDecorator).

    Alembic writes such a type as ``package.module.Type()`` but imports only SQLAlchemy's modules, so the
    script would fail with NameError when run. Returning False keeps Alembic's own rendering.
    """
    if type_ == "type":
        module = type(obj).__module__
        if module.split(".")[0] != "sqlalchemy" and module != "builtins":
            autogen_context.imports.add(f"import {module}")
    return False


def _options() -> dict[str, Any]:
    # SQLite cannot ALTER most things in place: batch mode rebuilds the table instead.
    return {
        "target_metadata": metadata,
        "compare_type": True,
        "render_as_batch": engine.dialect.name == "sqlite",
        "process_revision_directives": _drop_empty_revision,
        "render_item": _import_custom_types,
        "include_object": config.attributes["include_object"],
        # A plugin's history is recorded in its own table (alembic_version_<plugin>).
        "version_table": config.get_main_option("version_table") or "alembic_version",
    }


def run_offline() -> None:
    """Emit SQL for the migrations instead of running them."""
    context.configure(url=engine.url, literal_binds=True, dialect_opts={"paramstyle": "named"}, **_options())
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run the migrations on the connection's engine, each revision in a transaction of its own: one that
    fails leaves nothing of itself behind (the ones before it stay done and recorded)."""
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            event.listen(connection, "begin", _begin_sqlite_transaction)
        context.configure(
            connection=connection,
            transactional_ddl=True if sqlite else None,
            transaction_per_migration=True,
            **_options(),
        )
        with context.begin_transaction():
            context.run_migrations()


def _begin_sqlite_transaction(connection: Connection) -> None:
    """Open SQLite's transaction at once. Python's sqlite3 opens one only before a row is written, so a
    migration's CREATE TABLE ran outside any: a revision failing after it left the table, and the next
    ``db upgrade`` took the half-made schema for tables made before migrations and recorded the revision
    as done. (Not inside Alembic's ``autocommit_block``, where a PRAGMA must run outside a transaction.)"""
    if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        connection.exec_driver_sql("BEGIN")


if context.is_offline_mode():
    run_offline()
else:
    run_online()
