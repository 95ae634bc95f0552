"""flask-framework's ``Database`` driver on Conexoos's connections (``DATABASE`` / ``DATABASES``).

flask-framework gave each named connection its own engine, scoped session and declarative base. Conexoos
keeps the connections in Flask-SQLAlchemy binds: the base of a connection is an abstract model carrying its
``__bind_key__``, and the one session routes each model to its connection.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from flask import current_app
from sqlalchemy.engine import URL, Engine, make_url

from conexoos.framework.config import DatabaseSettings
from conexoos.framework.database import db
from conexoos.framework.errors import ConfigError

_bases: dict[str, type[Any]] = {}


def connection(name: str) -> DatabaseSettings:
    """The configured connection ``name`` (``default`` is the default one); a ConfigError if unknown."""
    settings = current_app.extensions["conexoos"].settings
    if name == "default" and settings.databases:
        found: DatabaseSettings = settings.default_database
        return found
    if name not in settings.databases:
        known = ", ".join(settings.databases) or "none"
        raise ConfigError([f"DATABASE.{name}: no such connection (configured: {known}); add it to DATABASES"])
    named: DatabaseSettings = settings.databases[name]
    return named


def model_base(name: str) -> type[Any]:
    """The declarative base of connection ``name``: ``db.Model`` for the default one."""
    settings = connection(name)
    if settings.is_default:
        return db.Model
    if name not in _bases:
        _bases[name] = type(f"{name.title()}Model", (db.Model,), {"__abstract__": True, "__bind_key__": name})
    return _bases[name]


def engine(name: str) -> Engine:
    """The engine of connection ``name``."""
    found: Engine = db.engines[connection(name).bind_key]
    return found


def same_url(name: str, wanted: URL) -> None:
    """Refuse to change connection ``name`` at run time: Conexoos reads connections from the configuration."""
    configured = connection(name).url
    if make_url(str(wanted)).set(password=None) != configured.set(password=None):
        raise ConfigError(
            [
                f"Database.register_engine({name!r}): {wanted.render_as_string(hide_password=True)} differs "
                f"from DATABASE.{name} ({configured.render_as_string(hide_password=True)}); connections come "
                "from the configuration, change them there"
            ]
        )


def url(
    driver: str,
    user: str | None,
    pwd: str | None,
    host: str,
    database: str,
    port: int | None,
    params: Mapping[str, Any] | None,
) -> URL:
    """flask-framework's connection arguments as a SQLAlchemy URL."""
    return URL.create(
        driver,
        username=user,
        password=pwd,
        host=host or None,
        port=port,
        database=database,
        query={key: str(value) for key, value in (params or {}).items()},
    )


class ByName(Mapping[str, Any]):
    """A read-only mapping of connection names (and ``default``) to what ``lookup`` gives for each."""

    def __init__(self, lookup: Any) -> None:
        self._lookup = lookup

    def _names(self) -> list[str]:
        databases = current_app.extensions["conexoos"].settings.databases
        return ["default", *databases] if databases else []

    def __getitem__(self, name: str) -> Any:
        if name not in self._names():
            raise KeyError(name)
        return self._lookup(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())
