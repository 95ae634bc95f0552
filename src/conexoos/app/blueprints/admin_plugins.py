"""``/admin/plugins``: the installed plugins, enabled or disabled from the next restart (administrators only).

Installing code is not offered here: a plugin is a pip package the operator installs on the server (an
upload of code through the browser would be remote code execution for whoever steals an admin session).
Every switch is a POST with the CSRF token, audit-logged, and applies at the next restart. A plugin runs
code, so a switch needs a recent login or password confirmation (blueprints/recent_auth.py); a switch
the plugins' state refuses (:func:`switch_refusal`, as ``set_enabled`` does) is a 404 before that.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from conexoos.app.blueprints.recent_auth import requires_recent_auth
from conexoos.app.controllers import audit
from conexoos.app.controllers.roles import ADMIN, staff_only
from conexoos.framework import db
from conexoos.framework.plugins import (
    NAME_PATTERN,
    PluginError,
    PluginStatus,
    plugin_statuses,
    set_enabled,
    switch_refusal,
)

admin_plugins = staff_only(Blueprint("admin_plugins", __name__, url_prefix="/admin/plugins"), ADMIN)


@admin_plugins.route("", methods=["GET"])
def index() -> str:
    """Every installed plugin (and those not installed any more) with version, description and state."""
    return render_template("admin/plugins.html", plugins=plugin_statuses(current_app))


@admin_plugins.route("/<name>/enable", methods=["POST"])
@requires_recent_auth(
    lambda name: f"enable the plugin {_known(name)} (it runs code on the server)",
    lambda name: _plugins_page(),
    when=lambda name: _changes(name, True),
    check=lambda name: _switch_refused(name, True),
)
def enable(name: str) -> Response:
    """Enable ``name`` from the next restart; 404 for a plugin that is not installed."""
    return _switch(name, True)


@admin_plugins.route("/<name>/disable", methods=["POST"])
@requires_recent_auth(
    lambda name: f"disable the plugin {_known(name)}",
    lambda name: _plugins_page(),
    when=lambda name: _changes(name, False),
    check=lambda name: _switch_refused(name, False),
)
def disable(name: str) -> Response:
    """Disable ``name`` from the next restart; 404 for a plugin with neither a package nor a state."""
    return _switch(name, False)


def _known(name: str) -> str:
    """``name`` when a plugin of that name is installed or has a saved state; 404 otherwise."""
    return _status(name).name


def _status(name: str) -> PluginStatus:
    """The plugin ``name``'s status (installed, or with a saved state); 404 when it has neither."""
    found = next((status for status in plugin_statuses(current_app) if status.name == name), None)
    if not NAME_PATTERN.fullmatch(name) or found is None:
        raise NotFound("There is no plugin of that name.")
    return found


def _changes(name: str, enabled: bool) -> bool:
    """Whether switching ``name`` to ``enabled`` changes its saved state: switching it to the state it
    has grants nothing, so it needs no confirmation (404 for an unknown plugin)."""
    return _status(name).enabled != enabled


def _switch_refused(name: str, enabled: bool) -> None:
    """404 when the switch is refused (:func:`switch_refusal`, which ``set_enabled`` refuses with in
    :func:`_switch`); None when it may go on."""
    _known(name)
    problem = switch_refusal(name, enabled)
    if problem is not None:
        raise NotFound(problem)


def _switch(name: str, enabled: bool) -> Response:
    before = _status(name).saved_state
    try:
        set_enabled(name, enabled, current_user.username)
    except PluginError as error:
        raise NotFound(str(error)) from None
    after = "enabled" if enabled else "disabled"
    audit.record(
        f"plugin.{'enable' if enabled else 'disable'}",
        ("plugin", name),
        {"state": before},
        {"state": after},
        summary=f"plugin {name} {after} (applies at the next restart)",
    )
    db.session.commit()
    flash(f"{name} is {after}. This applies at the next restart of the server.")
    return redirect(url_for("admin_plugins.index"))


def _plugins_page() -> str:
    """The plugins page, where a switch's "Confirm it's you" page leads back to."""
    return url_for("admin_plugins.index")
