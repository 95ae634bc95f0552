"""flask-framework's ``Process.openid`` / ``Process.saml`` (``FlaskOIDC``, ``FlaskSAML``)
on Conexoos's redirect login backends.

``login()`` sends the browser to the provider through Conexoos's routes; Conexoos checks the answer and
hands the identity to :func:`complete_login` (unless the project registered its own ``on_login``), which
keeps the person in the session, signs them in with Flask-Login and returns to ``/``.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from conexoos.compat.missing import not_provided
from conexoos.compat.users import SessionUser, kept_user, sign_in, sign_out
from conexoos.framework.logins.base import ExternalIdentity, LoginButton

AFTER_LOGIN = "/"
EQUIVALENTS = {
    "oidc": "LOGINS.oidc.<name> (the callback is Conexoos's route; runtime().logins.on_login(handler))",
    "saml": "LOGINS.saml (ACS, metadata and logout are Conexoos's routes; runtime().logins.on_login)",
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

    def authorize(self, *_args: Any, **_kwargs: Any) -> Response:
        """The provider answers Conexoos's own callback; reaching the project's means: start again."""
        return redirect(AFTER_LOGIN) if current_user.is_authenticated else self.login()

    def logout(self, *_args: Any, **_kwargs: Any) -> Response:
        """Sign out here, then back to ``/``."""
        sign_out()
        return redirect(AFTER_LOGIN)

    saml_logout = logout

    def metadata(self, *_args: Any, **_kwargs: Any) -> Response:
        """The SAML service provider's metadata (Conexoos's ``/saml/metadata``)."""
        if self.backend != "saml":
            not_provided("Process.openid", "metadata", EQUIVALENTS["oidc"])
        return redirect(url_for("conexoos_saml.metadata"))

    @staticmethod
    def user(user_id: str) -> SessionUser | None:
        """A Flask-Login user loader: the person kept in the session."""
        return kept_user(user_id)

    def __getattr__(self, name: str) -> Any:
        where = "Process.openid" if self.backend == "oidc" else "Process.saml"
        not_provided(where, name, EQUIVALENTS[self.backend])


def external_login(backend: str) -> ExternalLogin | None:
    """The backend's login when ``LOGINS`` enables it, else None (as flask-framework left it)."""
    registry = current_app.extensions["conexoos"].logins
    buttons = [button for button in registry.buttons() if button.backend == backend]
    return ExternalLogin(backend, buttons) if buttons else None


def complete_login(identity: ExternalIdentity) -> Response:
    """A finished OpenID or SAML login: sign the person in, then ``/``."""
    sign_in(identity)
    return redirect(AFTER_LOGIN)
