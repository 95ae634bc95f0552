"""The application factory: configuration + project → a ready Flask app.

The Conexoos product is loaded exactly like any user's project: through its ``server`` modules.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from flask_socketio import SocketIO
from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader, PackageLoader

from .chunked_bodies import install_chunked_limit
from .compat_import import attach as attach_compat
from .compat_import import default_error_pages, expect_config
from .compression import install_compression
from .conditional_requests import install_conditional_requests
from .config import (
    Settings,
    apply_project_schema,
    ensure_app_key,
    load_settings,
    log_warnings,
    make_instance_folder,
)
from .converters import register_converters
from .cors import install_cors
from .database import (
    configure_database,
    forget_unloaded_models,
    import_models,
    init_database,
    require_database_for_models,
)
from .deferred_commands import defer_commands
from .errors import ProjectError
from .fast_path import install_fast_paths
from .health import install_health_routes, refuse_shadowed_health_routes
from .http_errors import refuse_unbound_requests, register_error_handlers
from .json_input import install_json_input
from .lazy import lazy_module
from .logins import Logins
from .logins.install import install_logins, new_logins
from .logs import configure_logging, install_access_log, route_project_log
from .plugins import load_plugins
from .project import Project, locate_project, project_schema
from .proxy import TrustedProxies, parse_trusted_proxies
from .realtime import create_socketio
from .route_targets import resolve_route_targets
from .routing import LazyBuildRule
from .services import Services
from .sessions import configure_sessions, init_sessions
from .startup_gc import collection_paused
from .static_files import install_static_files
from .storage import install_media
from .sync_checks import remember_sync_checks
from .task_status import StatusBook
from .tasks import Scheduler, slot_lock, status_store
from .template_cache import install_template_cache
from .urls import install_public_url
from .utf8_input import install_utf8_input

if TYPE_CHECKING:
    from . import csrf as csrf_protection
else:  # Flask-WTF and WTForms: imported with the first app, not with the package (csrf.py)
    csrf_protection = lazy_module("conexoos.framework.csrf")

DEFAULT_MAX_CONTENT_LENGTH = 16 * 1024 * 1024


@dataclass
class Runtime:
    """What the framework gives a running project, at ``current_app.extensions["conexoos"]``."""

    settings: Settings
    project: Project
    services: Services
    socketio: SocketIO
    scheduler: Scheduler
    logins: Logins = field(default_factory=Logins)
    """The login backends ``LOGINS`` enabled, and the project's handler of their result."""
    csrf: csrf_protection.CSRFProtect = field(default_factory=lambda: csrf_protection.CSRFProtect())
    """The app's CSRF protection (``SERVER_ENV.CSRF``), installed once the project is loaded unless the
    project set up its own; a flask-framework project reaches it as ``Process.csrf()``."""


def runtime() -> Runtime:
    """The :class:`Runtime` of the current app (inside an app or request context)."""
    return current_app.extensions["conexoos"]


def create_app(
    project: str | os.PathLike[str] | Project | None = None,
    config: str | os.PathLike[str] | Settings | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    plugins: bool | Collection[str] = True,
) -> Flask:
    """Build the Flask app for ``project`` (default: the Conexoos product) with ``config``.

    The configuration is validated with the project's own declared sections (``server/config.py``).
    The plugins enabled in the database are loaded after the project; ``plugins`` names them instead (the
    workers of a server load those of its master), or is False (``conexoos plugins`` works without them,
    so that a plugin that fails to load can still be disabled).
    """
    with collection_paused():  # the project's import and the app's making: objects that stay (startup_gc)
        return _create_app(project, config, overrides, plugins)


def _create_app(
    project: str | os.PathLike[str] | Project | None,
    config: str | os.PathLike[str] | Settings | None,
    overrides: dict[str, Any] | None,
    plugins: bool | Collection[str],
) -> Flask:
    located = project if isinstance(project, Project) else locate_project(project)
    forget_unloaded_models()  # before the project's server package is imported for its schema
    expect_config(config, overrides)  # flask-framework's Environment may be read by that import
    declared = project_schema(located)
    if isinstance(config, Settings):
        settings, new_warnings = config, apply_project_schema(config, declared)
    else:
        settings = load_settings(config, overrides=overrides, report_warnings=False, project_schema=declared)
        new_warnings = settings.warnings
    configure_logging(settings)
    log_warnings(settings, new_warnings)  # now that LOG.DIR is set up, so they reach app.log
    ensure_app_key(settings)
    app = _make_flask(located, settings)
    register_converters(app)
    route_project_log(app, located.module_roots())
    services = Services(settings)
    _apply_framework_config(app, settings)
    configure_database(app, settings)
    configure_sessions(app, settings, services)
    app.config.update(settings.tree["FLASK"]["CONFIG"])  # last, so a user can override anything
    install_cors(app, settings)  # CORS_* keys of FLASK.CONFIG
    init_database(app, settings)
    init_sessions(app)
    register_error_handlers(app)
    install_access_log(app)
    install_public_url(app, settings)
    install_health_routes(app)
    install_media(app, settings)
    install_compression(app, settings)
    install_chunked_limit(app)  # outside Flask, inside Socket.IO's middleware: its polling bodies too
    install_utf8_input(app)
    install_json_input(app)
    socketio = create_socketio(app, settings, services)
    install_fast_paths(app)  # before Socket.IO's middleware and Flask, inside the trusted proxies
    install_conditional_requests(app)  # Range and If-Match as RFC 9110 reads them, fast paths included
    # Outermost, after Socket.IO's middleware, so that sockets see the real client address too.
    app.wsgi_app = TrustedProxies(  # type: ignore[method-assign]
        app.wsgi_app, parse_trusted_proxies(settings.server.get("TRUSTED_PROXIES", ""))
    )
    scheduler = Scheduler(
        app, slot_lock(settings, services), status=StatusBook(status_store(settings, services))
    )
    logins = new_logins(settings)
    app.extensions["conexoos"] = Runtime(settings, located, services, socketio, scheduler, logins)
    with app.app_context():
        install_logins(app, logins, settings)  # before the project, whose web.py may call on_login
        _load_project(app, located, settings, socketio, scheduler)
        if plugins is not False:
            only = None if plugins is True else frozenset(plugins)
            load_plugins(app, settings, lambda plugin: _load_plugin(app, plugin, socketio, scheduler), only)
        # after the project: it may have its own
        csrf_protection.install_csrf(app, app.extensions["conexoos"])
        attach_compat(app, located)  # default templates, LDAP views for a flask-framework project
        logins.require_handler()  # a redirect login with no handler would be a 500 at each login
        resolve_route_targets(app)  # a view named by a string that names nothing: a 500 at each request
        refuse_shadowed_health_routes(app)
        refuse_unbound_requests(app)  # first of the before-request functions: after every other is registered
    install_static_files(app, settings)  # once every blueprint is registered, plugins' included
    require_database_for_models(located, settings)
    return app


def _make_flask(project: Project, settings: Settings) -> Flask:
    server = settings.server
    static = project.folder(server["STATIC_PATH"], ("static",))
    templates = project.folder(server["TEMPLATE_PATH"], ("templates", "template"))
    make_instance_folder(settings.instance_path)
    app = Flask(
        project.name,
        root_path=str(project.root),
        static_folder=str(static) if static else None,
        template_folder=str(templates) if templates else None,
        instance_path=str(settings.instance_path),
    )
    app.url_rule_class = LazyBuildRule
    install_template_cache(app, settings.instance_path)
    loaders: list[BaseLoader] = [FileSystemLoader(str(templates))] if templates else []
    loaders.append(PackageLoader("conexoos.framework", "templates"))
    app.jinja_loader = ChoiceLoader(loaders)
    remember_sync_checks(app)
    return app


def _apply_framework_config(app: Flask, settings: Settings) -> None:
    server = settings.server
    app.config.update(
        SECRET_KEY=server["APP_KEY"],
        DEBUG=settings.is_development,
        CONEXOOS_ENV=settings.env,
        APP_NAME=server["APP_NAME"],
        MAX_CONTENT_LENGTH=DEFAULT_MAX_CONTENT_LENGTH,
        PREFERRED_URL_SCHEME="http" if settings.is_development else "https",
        TEMPLATES_AUTO_RELOAD=settings.is_development,
        SERVICES=settings.services,
    )


def _load_project(
    app: Flask, project: Project, settings: Settings, socketio: SocketIO, scheduler: Scheduler
) -> None:
    """Import the project's models and call its server modules in the seed's order."""
    import_models(project, settings)
    require_database_for_models(project, settings)
    _call_server_modules(app, project, socketio, scheduler)


def _load_plugin(app: Flask, plugin: Project, socketio: SocketIO, scheduler: Scheduler) -> None:
    """A plugin loads as a project does: its ``models`` package (default connection), then its server."""
    plugin.import_part(None, "models")
    _call_server_modules(app, plugin, socketio, scheduler)


def _call_server_modules(app: Flask, project: Project, socketio: SocketIO, scheduler: Scheduler) -> None:
    server = project.find_module(None, "server")
    if server is None:
        return
    _call(project.import_part(server, "middleware"), "Load", app)
    _call(project.import_part(server, "web"), "Route", app)
    _call(project.import_part(server, "ws"), "Route", app)
    try:
        _call(project.import_part(server, "errorhandler"), "Route", app)
    except ImportError as error:  # a flask-framework project falls back to its default pages, logged
        if not default_error_pages(app, project, error):
            raise
    _call(project.import_part(server, "socket"), "Handler", socketio)
    _call(project.import_part(server, "tasks"), "Schedule", scheduler)
    if project.find_module(server, "commands") is not None:  # imported at the commands' first use
        defer_commands(app, lambda cli: _call(project.import_part(server, "commands"), "Commands", cli))


TAKES = {"Handler": "the Socket.IO server", "Schedule": "the scheduler", "Commands": "the command group"}
"""What each part's class is called with, in the message of a part without it (the others: the server)."""


def _call(module: ModuleType | None, class_name: str, argument: object) -> None:
    if module is None:
        return
    entry = getattr(module, class_name, None)
    if entry is None:
        raise ProjectError(
            f"{module.__name__} ({module.__file__}) defines no {class_name}; the seed layout "
            f"expects `class {class_name}` taking {TAKES.get(class_name, 'the server')}"
        )
    _require_one_argument(module, class_name, entry, argument)
    entry(argument)


def _require_one_argument(module: ModuleType, class_name: str, entry: Any, argument: object) -> None:
    """A ``ProjectError`` naming the part when ``entry`` cannot take ``argument`` (``def __init__(self)``):
    the call's TypeError would read as a fault of the framework's code, with its traceback."""
    try:
        signature = inspect.signature(entry)
    except (TypeError, ValueError):  # no signature to read (a builtin): the call will tell
        return
    try:
        signature.bind(argument)
    except TypeError:
        raise ProjectError(
            f"{module.__name__}.{class_name}{signature} ({module.__file__}) cannot be called with the "
            f"{type(argument).__name__} alone; the seed layout expects `class {class_name}` whose __init__ "
            "takes it as its one argument"
        ) from None
