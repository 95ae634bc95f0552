"""flask-framework's ``Process.openid`` / ``Process.saml``: Conexoos's redirect login backends."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect
from werkzeug.wrappers import Response

from conexoos.compat.missing import not_provided
from conexoos.framework.logins.base import LoginButton

EQUIVALENTS = {
    "oidc": "the login button's URL (runtime().logins.buttons()); the callback and the user are handled by "
    "LOGINS.oidc and your runtime().logins.on_login(handler)",
    "saml": "the login button's URL (runtime().logins.buttons()); the ACS, metadata and logout routes are "
    "installed by LOGINS.saml, the user is handed to runtime().logins.on_login(handler)",
}


class ExternalLogin:
    """A redirect login backend seen through flask-framework's ``FlaskOIDC``/``FlaskSAML`` objects."""

    def __init__(self, backend: str, buttons: list[LoginButton]) -> None:
        self.backend = backend
        self.buttons = buttons

    def login(self, *_args: Any, **_kwargs: Any) -> Response:
        """Send the browser to the (first) provider's login."""
        return redirect(self.buttons[0].url)

    saml_login = login

    def __getattr__(self, name: str) -> Any:
        not_provided(
            f"Process.{'openid' if self.backend == 'oidc' else 'saml'}", name, EQUIVALENTS[self.backend]
        )


def external_login(backend: str) -> ExternalLogin | None:
    """The backend's login when ``LOGINS`` enables it, else None (as flask-framework left it)."""
    registry = current_app.extensions["conexoos"].logins
    buttons = [button for button in registry.buttons() if button.backend == backend]
    return ExternalLogin(backend, buttons) if buttons else None
