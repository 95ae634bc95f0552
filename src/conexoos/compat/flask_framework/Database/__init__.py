"""flask-framework's ``Database`` on Conexoos's named connections (see ``conexoos.compat.databases``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import scoped_session

from conexoos.compat import databases
from conexoos.compat.missing import module_getattr, not_provided
from conexoos.framework.database import db

EQUIVALENTS = {
    "init": "`conexoos db upgrade` (Alembic migrations) creates the schema",
    "init_db": "`conexoos db upgrade` (Alembic migrations) creates the schema",
    "init_default_db": "`conexoos db upgrade` (Alembic migrations) creates the schema",
    "register_engines": "Conexoos opens every DATABASE connection at start-up",
    "setup_sessions": "SERVER_ENV.SESSION: sqlalchemy",
    "to_pandas": "pandas.read_sql(query.statement, Database.engines[name])",
    "disconnect_all": "Flask-SQLAlchemy disposes the engines",
    "reconnect_all": "the engines reconnect by themselves (pool_pre_ping)",
    "Managers": "nothing",
}


class _DatabaseType(type):
    """Class-level attributes read from the running app's connections."""

    @property
    def Model(cls) -> type[Any]:
        return db.Model

    @property
    def session(cls) -> scoped_session[Any]:
        return db.session

    @property
    def engine(cls) -> Engine:
        return databases.engine("default")

    @property
    def engines(cls) -> databases.ByName:
        return databases.ByName(databases.engine)

    @property
    def sessions(cls) -> databases.ByName:
        return databases.ByName(lambda _name: db.session)

    @property
    def models(cls) -> databases.ByName:
        return databases.ByName(databases.model_base)

    def __getattr__(cls, name: str) -> Any:
        not_provided(
            "flask_framework.Database.Database", name, EQUIVALENTS.get(name, "conexoos.framework.db")
        )


class Database(metaclass=_DatabaseType):
    """flask-framework's database driver: one session, a declarative base and an engine per connection."""

    @classmethod
    def setup(
        cls,
        driver: str,
        user: str | None,
        pwd: str | None,
        host: str,
        db: str,
        port: int | None = None,
        echo: bool = False,
        params: dict[str, Any] | None = None,
        dialects: Any = None,
        **kwargs: Any,
    ) -> None:
        """Check that the default connection is the one configured (Conexoos opened it already)."""
        databases.same_url("default", databases.url(driver, user, pwd, host, db, port, params))

    @classmethod
    def register_engine(
        cls,
        name: str,
        driver: str,
        user: str | None,
        pwd: str | None,
        host: str,
        db: str,
        port: int | None = None,
        params: dict[str, Any] | None = None,
        dialects: Any = None,
        echo: bool = True,
        **kwargs: Any,
    ) -> None:
        """Check that connection ``name`` is the one configured (Conexoos opened it already)."""
        databases.same_url(name, databases.url(driver, user, pwd, host, db, port, params))

    @classmethod
    def get_session_by_name(cls, name: str) -> scoped_session[Any] | None:
        """The session for connection ``name`` (the one session routes each model to its connection)."""
        return db.session if name in cls.sessions else None

    start_session_by_name = get_session_by_name

    @classmethod
    def get_engine_by_name(cls, name: str) -> Engine | None:
        """The engine of connection ``name``, or None."""
        return databases.engine(name) if name in cls.engines else None

    @classmethod
    def get_model_by_name(cls, name: str) -> type[Any] | None:
        """The declarative base of connection ``name`` (its models get its ``__bind_key__``), or None."""
        return databases.model_base(name) if name in cls.models else None

    get_models_by_name = get_model_by_name

    @classmethod
    def close_sessions(cls) -> None:
        """End the session (Flask-SQLAlchemy also does it at the end of each request)."""
        db.session.remove()

    close_session = classmethod(lambda cls, _name: db.session.remove())
    close_default_session = close_sessions
    shutdown_session = classmethod(lambda cls, _exception=None: db.session.remove())


__getattr__ = module_getattr("flask_framework.Database", {"Driver": "flask_framework.Database.Database"})
