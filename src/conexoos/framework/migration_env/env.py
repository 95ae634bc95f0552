"""Alembic environment of one named connection.

``conexoos.framework.migrations`` runs it with ``config.attributes`` holding the connection's ``engine``
and ``metadata`` (its Flask-SQLAlchemy bind), so no ``alembic.ini`` and no URL in a file are needed, and
``include_object``, which keeps the framework's own tables (sessions) out of the scripts and, for a
plugin's history, keeps to the plugin's tables; the ``version_table`` option names where it is recorded.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import MetaData
from sqlalchemy.engine import Engine

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
    """Run the migrations on the connection's engine, in one transaction."""
    with engine.connect() as connection:
        context.configure(connection=connection, **_options())
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
