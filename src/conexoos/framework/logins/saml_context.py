"""What every SAML route shares: the current app's service provider, the session keys, and the pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response, current_app
from flask.typing import ResponseReturnValue

from .base import LoginFailed
from .pages import render_login_failure
from .saml_provider import ServiceProvider
from .saml_replay import RedisReplayStore, ReplayStore, SqliteReplayStore

EXTENSION = "conexoos.saml"
"""``app.extensions`` key of the app's :class:`ServiceProvider`."""
SESSION_REQUESTS = "conexoos.saml.requests"
"""Session key: {AuthnRequest id: local path to return to} of the logins this browser started."""
SESSION_LOGIN = "conexoos.saml.login"
"""Session key: the NameID and session index of the last SAML login, for an IdP-initiated logout."""


def current_provider() -> ServiceProvider:
    """The service provider of the current app, its replay store chosen on first use (Redis when
    ``SERVICES.redis`` is configured, else a SQLite file in the instance folder)."""
    provider: ServiceProvider = current_app.extensions[EXTENSION]
    if provider.replays is None:
        provider.replays = _replay_store()
    return provider


def _replay_store() -> ReplayStore:
    runtime = current_app.extensions["conexoos"]
    if runtime.services.has("redis"):
        return RedisReplayStore(runtime.services.redis, runtime.settings.key_prefix)
    return SqliteReplayStore(Path(current_app.instance_path) / "saml-replay.sqlite")


def no_store(response: Any) -> Any:
    """``response`` with ``Cache-Control: no-store`` (every SAML answer is for one browser, once)."""
    response.headers["Cache-Control"] = "no-store"
    return response


def failure_page(error: LoginFailed) -> ResponseReturnValue:
    """The framework's login-failure page (``logins/failed.html``) with the error's status, never cached."""
    html, status = render_login_failure(error)
    return no_store(Response(html, status=status, mimetype="text/html"))
