"""What a flask-framework project's app holds besides Conexoos's own runtime (``app.extensions``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_login import LoginManager
from jinja2 import ChoiceLoader, FileSystemLoader

log = logging.getLogger("conexoos.compat")
EXTENSION = "flask_framework"
STATIC_URL = "/file"
TEMPLATES = Path(__file__).resolve().parent / "flask_framework" / "template"


@dataclass
class CompatState:
    """One app's flask-framework objects: its login manager and LDAP login (its CSRF protection is the
    framework's, ``runtime().csrf``)."""

    login_manager: LoginManager | None = None
    ldap: Any = None
    attached: bool = False


def state(app: Flask | None = None) -> CompatState:
    """The :class:`CompatState` of ``app`` (default: the current app), created on first use."""
    target = app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]
    found: CompatState = target.extensions.setdefault(EXTENSION, CompatState())
    return found


def attach_app(app: Flask) -> None:
    """Turn on what flask-framework's ``Process.init`` did: its default templates, and its LDAP login when
    ``LOGINS`` has ldap. CSRF on every form is the framework's own (``SERVER_ENV.CSRF``, on by default)."""
    current = state(app)
    if current.attached:
        return
    current.attached = True
    runtime = app.extensions["conexoos"]
    loader = app.jinja_loader
    fallback = FileSystemLoader(str(TEMPLATES))
    app.jinja_loader = ChoiceLoader(
        [*loader.loaders, fallback]
        if isinstance(loader, ChoiceLoader)
        else [loader, fallback]
        if loader
        else [fallback]
    )
    if app.static_folder and "flask_framework_static" not in app.view_functions:
        # flask-framework served the static folder at /file (static_url_path); url_for("static") is /static
        app.add_url_rule(STATIC_URL + "/<path:filename>", "flask_framework_static", app.send_static_file)
    _redirect_logins(app, runtime.logins)
    if "ldap" in runtime.logins.order and current.ldap is None:
        from flask_framework.Utils.Auth.ldap import LDAP  # the project's copy of the layer

        current.ldap = LDAP(app)
    log.info("flask-framework compatibility layer attached to %s", app.name)


def _redirect_logins(app: Flask, logins: Any) -> None:
    """OpenID and SAML logins sign the person in as flask-framework did, unless the project handles them."""
    if not ({"oidc", "saml"} & set(logins.order)) or logins.has_handler:
        return
    from conexoos.compat.logins import complete_login
    from conexoos.compat.users import ensure_login_manager

    logins.on_login(complete_login)
    ensure_login_manager(app, None)
