"""The person signed in through a flask-framework login (LDAP, OpenID, SAML), kept in the session."""

from __future__ import annotations

from typing import Any

from flask import Flask, session
from flask_login import LoginManager, login_user, logout_user

from conexoos.compat.runtime import state
from conexoos.framework.logins.base import ExternalIdentity

SESSION_KEY = "flask_framework_user"


class SessionUser:
    """The signed-in person: what the directory or provider said (``mail``, ``uid``, ``cn``...)."""

    is_active = True
    is_authenticated = True
    is_anonymous = False

    def __init__(self, attrs: dict[str, Any]) -> None:
        for key, value in attrs.items():
            setattr(self, key, value)

    def get_id(self) -> str:
        """Flask-Login's id: the mail address, as in flask-framework; the subject (SAML NameID, OIDC
        ``sub``) when the provider gave no address, as flask-login-saml identified the person by it."""
        return str(getattr(self, "mail", "") or getattr(self, "subject", ""))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.get_id()!r})"


def attributes(identity: ExternalIdentity) -> dict[str, Any]:
    """flask-framework's attribute names for what the backend said about the person (``subject`` is the
    SAML NameID, as flask-login-saml's ``SAMLUser`` had it)."""
    return {
        "mail": identity.email or "",
        "email": identity.email or "",
        "sAMAccountName": identity.username,
        "uid": identity.username,
        "cn": identity.name or identity.username,
        "displayName": identity.name or identity.username,
        "distinguishedName": identity.subject,
        "sub": identity.subject,
        "subject": identity.subject,
        "is_admin": bool(identity.admin),
    }


def sign_in(identity: ExternalIdentity) -> bool:
    """Keep the person in the session and sign them in with Flask-Login."""
    user = SessionUser(attributes(identity))
    session[SESSION_KEY] = dict(vars(user))
    return bool(login_user(user))


def sign_out() -> None:
    """Sign the person out and forget them."""
    logout_user()
    session.pop(SESSION_KEY, None)


def kept_user(user_id: str) -> SessionUser | None:
    """The person kept in the session, when ``user_id`` is theirs (a Flask-Login user loader)."""
    kept = session.get(SESSION_KEY)
    if not isinstance(kept, dict):
        return None
    user = SessionUser(kept)
    return user if user_id and user.get_id() == user_id else None


def ensure_login_manager(app: Flask, login_view: str | None) -> None:
    """Give the app a login manager restoring the kept person, unless the project set one up."""
    if isinstance(getattr(app, "login_manager", None), LoginManager):
        return
    manager = LoginManager(app)
    manager.user_loader(kept_user)
    manager.login_view = login_view
    state(app).login_manager = manager
