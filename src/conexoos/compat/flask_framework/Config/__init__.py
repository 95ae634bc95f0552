"""flask-framework's ``Config.Environment`` read from Conexoos's validated configuration.

``SERVER_DATA`` is ``SERVER_ENV``, ``Databases`` is ``DATABASE`` (with ``default`` pointing at the
default connection's settings, as flask-framework had it), ``Services``/``SERVICES`` is ``SERVICES``,
``FLASK`` is ``FLASK`` and ``Logins`` is ``LOGINS`` as written: flask-framework's list of names
(``[BASE, LDAP]``) stays that list, a mapping stays a mapping. Loading another file at run time is not
provided.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context

from conexoos.compat.missing import module_getattr, not_provided
from conexoos.framework.compat_import import early_settings
from conexoos.framework.config import Settings
from conexoos.framework.logins.legacy import NAMES

EQUIVALENTS = {
    "load": "the configuration is read once at start-up: CONFIG_FILE=... conexoos run --project .",
    "reload": "restart the server (`conexoos serve` reloads on SIGHUP through gunicorn)",
    "load_file": "the configuration is read once at start-up (CONFIG_FILE)",
    "add_database": "add the connection under DATABASES in the configuration file",
    "set_default_database": "DATABASES.default in the configuration file",
    "add_login": "LOGINS in the configuration file",
    "add_service": "SERVICES in the configuration file",
}


class _Logins(dict[str, Any]):
    """``LOGINS`` that also answers flask-framework's names: ``'LDAP' in Environment.Logins``."""

    def __contains__(self, name: object) -> bool:
        return super().__contains__(NAMES.get(str(name).lower(), name))


class _LoginNames(list[str]):
    """``LOGINS`` written in flask-framework's form (``LDAP`` or ``[BASE, LDAP]``): the list of names, as
    flask-framework kept it (``.copy()``, ``.remove()`` work), also answering another spelling of a name
    (``'ldap' in``)."""

    def __contains__(self, name: object) -> bool:
        wanted = NAMES.get(str(name).lower(), name)
        return any(NAMES.get(written.lower(), written) == wanted for written in self)

    def copy(self) -> _LoginNames:
        return _LoginNames(self)


def _settings() -> Settings:
    if has_app_context():
        settings: Settings = current_app.extensions["conexoos"].settings
        return settings
    early = early_settings()  # a module of the project read it while create_app imports it
    if early is None:
        raise RuntimeError(
            "flask_framework.Config.Environment is read from the configuration of the app being created "
            "(conexoos run/serve, create_app); no app is being created"
        )
    return early


def _tree() -> dict[str, Any]:
    return _settings().tree


class _EnvironmentType(type):
    @property
    def SERVER_DATA(cls) -> dict[str, Any]:
        server: dict[str, Any] = _tree()["SERVER_ENV"]
        return server

    @property
    def Databases(cls) -> dict[str, Any]:
        section = dict(_tree()["DATABASE"] or {})
        default = section.get("default")
        if isinstance(default, str) and default in section:
            section["default"] = section[default]
        return section

    @property
    def Services(cls) -> dict[str, Any]:
        services: dict[str, Any] = _tree()["SERVICES"]
        return services

    SERVICES = Services

    @property
    def FLASK(cls) -> dict[str, Any]:
        flask: dict[str, Any] = _tree()["FLASK"]
        return flask

    @property
    def Logins(cls) -> dict[str, Any] | list[str]:
        written = _settings().raw.get("LOGINS")
        if isinstance(written, str | list):
            return _LoginNames([written] if isinstance(written, str) else [str(name) for name in written])
        return _Logins(_tree()["LOGINS"] or {})

    def __getattr__(cls, name: str) -> Any:
        not_provided("flask_framework.Config.Environment", name, EQUIVALENTS.get(name, "runtime().settings"))


class Environment(metaclass=_EnvironmentType):
    """The configuration sections, as flask-framework named them."""


__getattr__ = module_getattr("flask_framework.Config", {"Services": "Environment.Services", **EQUIVALENTS})
