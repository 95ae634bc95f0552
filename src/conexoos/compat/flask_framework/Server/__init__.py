"""flask-framework's ``Server.Process`` on Conexoos: the app, its Socket.IO server, login manager, CSRF
object, login backends and the once-per-cluster scheduler.

Conexoos builds and serves the app (``conexoos run --project .``); ``Process`` hands the project what it
asks for, as flask-framework did. Start-up methods (``init``, ``start``, ``wsgi_setup``...) are not
provided: they raise and name the Conexoos command.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, current_app, flash, redirect, request, url_for
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect

from conexoos.compat import scheduling
from conexoos.compat.logins import ExternalLogin, external_login
from conexoos.compat.missing import module_getattr, not_provided
from conexoos.compat.runtime import state
from conexoos.framework import runtime

START_UP = "Conexoos builds and serves the app: run `conexoos run --project .` (or `conexoos serve`)"
PROCESS_EQUIVALENTS = {
    "init": START_UP,
    "instanciate": START_UP,
    "start": START_UP,
    "wsgi_setup": START_UP,
    "load_routes": START_UP,
    "load_middleware": START_UP,
    "load_socket_events": START_UP,
    "load_plugins": "load plugins from server/middleware.py",
    "init_sheduler": "the scheduler is always on: Process.add_task or server/tasks.py",
    "pid": "`conexoos serve --pid-file` is not provided; let your process manager track the PID",
    "shutdown": "stop the `conexoos serve` process (SIGTERM)",
    "stop": "stop the `conexoos serve` process (SIGTERM)",
    "_scheduler": "runtime().scheduler (every, cron)",
    "_session": "Flask's session (SERVER_ENV.SESSION chooses the store)",
}


class _ProcessType(type):
    """Class-level attributes of ``Process`` that are read from the running app."""

    @property
    def _app(cls) -> Flask:
        return Process.get()

    @property
    def _socket(cls) -> SocketIO:
        return Process.get_ws()

    @property
    def _csrf(cls) -> CSRFProtect:
        return runtime().csrf

    @property
    def _login_manager(cls) -> LoginManager | None:
        return state().login_manager

    @property
    def openid(cls) -> ExternalLogin | None:
        return external_login("oidc")

    @property
    def saml(cls) -> ExternalLogin | None:
        return external_login("saml")

    @property
    def sso(cls) -> None:
        return None  # flask_sso has no Conexoos equivalent; LOGINS: SSO is refused by the configuration

    @property
    def ldap(cls) -> Any:
        return state().ldap

    def __getattr__(cls, name: str) -> Any:
        not_provided("flask_framework.Server.Process", name, PROCESS_EQUIVALENTS.get(name, START_UP))


class Process(metaclass=_ProcessType):
    """The running server, as flask-framework projects see it."""

    @classmethod
    def get(cls) -> Flask:
        """The Flask app (Conexoos's, for the project being served)."""
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        return app

    @classmethod
    def get_ws(cls) -> SocketIO:
        """The app's Flask-SocketIO server."""
        socketio: SocketIO = current_app.extensions["conexoos"].socketio
        return socketio

    @classmethod
    def login_manager(cls, login_manager: LoginManager | None = None) -> LoginManager | None:
        """Keep ``login_manager`` as the app's (when given) and return the kept one, or None."""
        current = state()
        if isinstance(login_manager, LoginManager):
            current.login_manager = login_manager
        elif current.login_manager is None and isinstance(
            getattr(current_app, "login_manager", None), LoginManager
        ):
            current.login_manager = current_app.login_manager  # type: ignore[attr-defined]
        return current.login_manager

    @classmethod
    def csrf(cls, csrf: CSRFProtect | None = None) -> CSRFProtect:
        """The app's CSRF protection (the framework's, a Flask-WTF ``CSRFProtect``), active on every
        state-changing request unless ``SERVER_ENV.CSRF.ENABLED`` is false; ``csrf`` replaces it when given
        while the project loads."""
        current = runtime()
        if isinstance(csrf, CSRFProtect):
            current.csrf = csrf
        return current.csrf

    @classmethod
    def add_task(
        cls,
        function: str | Callable[..., object],
        id: str | None = None,
        args: tuple[Any, ...] = (),
        trigger: str = "interval",
        seconds: int = 0,
        minutes: int = 0,
        hours: int = 0,
        days: int = 0,
        weeks: int = 0,
    ) -> None:
        """Run ``function`` (``"module.function"`` or a callable) every interval, once per cluster."""
        interval = scheduling.interval(seconds, minutes, hours, days, weeks)
        scheduling.every(function, id, args, trigger, interval)

    @classmethod
    def add_cron(
        cls,
        function: str | Callable[..., object],
        id: str | None = None,
        args: tuple[Any, ...] = (),
        trigger: str = "interval",
        seconds: int = 0,
        minutes: int = 0,
        hours: int = 0,
        days: int = 0,
        weeks: int = 0,
    ) -> None:
        """flask-framework's second spelling of :meth:`add_task` (an interval job added to the scheduler)."""
        cls.add_task(function, id, args, trigger, seconds, minutes, hours, days, weeks)

    @classmethod
    def add_parallel_task(
        cls,
        function: str | Callable[..., object],
        id: str | None = None,
        args: tuple[Any, ...] = (),
        trigger: str = "date",
        date: datetime | None = None,
    ) -> None:
        """Run ``function`` once, now (or at ``date``), in a background thread of this process."""
        scheduling.once(function, id, args, trigger, date)


def deniedwebcall(func: Callable[..., Any]) -> Callable[..., Any]:
    """flask-framework's guard: called during a request, redirect back instead of running ``func``."""

    @functools.wraps(func)
    def deny(*args: Any, **kwargs: Any) -> Any:
        if request:
            flash(f"Access denied to function {func.__name__}.", "error")
            return redirect(request.referrer or url_for("home"))
        return func(*args, **kwargs)

    return deny


__getattr__ = module_getattr(
    "flask_framework.Server",
    {"configure_logs": "SERVER_ENV.LOG (DIR, LEVEL) configures logging", "WebDenyFunctionCall": "nothing"},
)
