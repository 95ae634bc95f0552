"""Loading the enabled plugins into an app, after its project: models, server modules, templates, static.

A plugin that fails to load stops the start with one line naming it and the error: a plugin an operator
enabled never goes silently missing. When the database cannot be read at all (it is down), the app is
still made, without plugins, and an ERROR line says so at its first request: the health probes then report
the database, and ``serve`` waits for the database before it makes the app, so a served site does not
start that way.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Flask
from jinja2 import ChoiceLoader, FileSystemLoader
from sqlalchemy.exc import DBAPIError

from ..causes import one_line_cause
from ..config import Settings
from ..database import Base, db
from ..project import Project
from .discovery import InstalledPlugin, PluginError, installed_plugins
from .state import enabled_names

log = logging.getLogger("conexoos.plugins")
EXTENSION = "conexoos_plugins"
UNREAD = "conexoos_plugins_unread"
"""Set (to the cause) when the app was made without its plugins because their states could not be read."""
STATIC_URL = "/plugins/{name}/static"
LoadParts = Callable[[Project], None]
"""Imports a project's models and calls its server modules in the seed's order (``app._load_parts``)."""


@dataclass(frozen=True)
class ActivePlugin:
    """A plugin loaded into this app: what was installed, and its package as a project."""

    plugin: InstalledPlugin
    project: Project

    @property
    def name(self) -> str:
        return self.plugin.name

    @property
    def migrations(self) -> Path:
        """Where its own Alembic history lives: ``migrations/versions`` in its package."""
        return self.project.root / "migrations" / "versions"


@dataclass(frozen=True)
class ActivePlugins:
    """The plugins loaded at this app's creation (the database may say otherwise until the next start)."""

    plugins: tuple[ActivePlugin, ...] = field(default_factory=tuple)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(active.name for active in self.plugins)


def active_plugins(app: Flask) -> ActivePlugins:
    """The plugins ``app`` loaded (none for an app made before plugins were loaded)."""
    return app.extensions.get(EXTENSION) or ActivePlugins()


def load_plugins(
    app: Flask, settings: Settings, load_parts: LoadParts, only: frozenset[str] | None = None
) -> ActivePlugins:
    """Load every installed plugin the database enables (or those named by ``only``), by name; call inside
    the app context. Nothing is read from the database when no plugin is installed, or without a database.
    """
    app.extensions[EXTENSION] = ActivePlugins()
    installed = installed_plugins()
    if not installed or not settings.databases:
        return app.extensions[EXTENSION]
    try:
        enabled = enabled_names() if only is None else only
    except DBAPIError as error:
        db.session.rollback()
        _say_at_first_request(app, one_line_cause(error))
        return app.extensions[EXTENSION]
    loaded = tuple(_load(app, plugin, load_parts) for name, plugin in installed.items() if name in enabled)
    app.extensions[EXTENSION] = ActivePlugins(loaded)
    return app.extensions[EXTENSION]


def _say_at_first_request(app: Flask, cause: str) -> None:
    """Log, at the app's first request, that it serves without its plugins. Not at once: a command that
    made the app (``db upgrade``) reports the unreachable database itself, in its one line."""
    said: list[bool] = []

    @app.before_request
    def plugins_not_loaded() -> None:
        if not said:
            said.append(True)
            log.error(
                "plugins not loaded: the plugin states could not be read from the database when this "
                "process started (%s); restart it once the database answers",
                cause,
            )

    app.extensions[UNREAD] = cause


def _load(app: Flask, plugin: InstalledPlugin, load_parts: LoadParts) -> ActivePlugin:
    try:
        project = plugin.project()
        load_parts(project)
    except PluginError:
        raise
    except Exception as error:  # any error of the plugin's own code: one line naming the plugin, cause kept
        raise PluginError(
            f"plugin {plugin.name!r} ({plugin.module} {plugin.version}) failed to load: "
            f"{type(error).__name__}: {error}; fix it or run `conexoos plugins disable {plugin.name}` "
            "(with the --project or --config of this site)"
        ) from error
    _add_templates(app, project)
    _add_static(app, plugin, project)
    return ActivePlugin(plugin, project)


def _add_templates(app: Flask, project: Project) -> None:
    """The plugin's templates come after the project's and the framework's: a project may override them."""
    folder = project.folder("templates", ())
    if folder is None:
        return
    loader = app.jinja_loader
    if not isinstance(loader, ChoiceLoader):
        raise PluginError(f"{project.name}: the app's template loader is not a ChoiceLoader")
    loader.loaders = [*loader.loaders, FileSystemLoader(str(folder))]


def _add_static(app: Flask, plugin: InstalledPlugin, project: Project) -> None:
    folder = project.folder("static", ())
    if folder is None:
        return
    static = Blueprint(
        f"plugin_{plugin.name}",
        plugin.module,
        static_folder=str(folder),
        static_url_path=STATIC_URL.format(name=plugin.name),
    )
    app.register_blueprint(static)


def plugin_model_tables(module: str | None = None) -> frozenset[str]:
    """Names of the tables of the models defined by plugins (by one plugin's package when ``module``).

    A plugin's tables live in its own history: the project's migrations leave them out.
    """
    roots = (module,) if module else tuple(plugin.module for plugin in installed_plugins().values())
    tables = set()
    for mapper in Base.registry.mappers:
        defined_in = mapper.class_.__module__
        if defined_in in sys.modules and any(_inside(defined_in, root) for root in roots):
            tables.add(str(mapper.local_table.name))  # type: ignore[attr-defined]
    return frozenset(tables)


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")
