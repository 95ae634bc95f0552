"""Stand-ins for the login backends, for the product's side of single sign-on.

The real backends (slapd, a node OpenID provider, a SAML IdP) are tested in ``tests/framework``; here the
product receives :class:`ExternalIdentity` objects exactly as they hand them over: through
``logins().complete(identity)`` from a route of their own (:class:`Provider`), or from a password backend
asked by the login form (:class:`Directory`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, g, request
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from conexoos.app.models.persistent import ExternalIdentity as IdentityRow
from conexoos.app.models.persistent import User
from conexoos.framework import db
from conexoos.framework.logins import (
    ExternalIdentity,
    LoginButton,
    LoginFailed,
    Logins,
    LoginUnavailable,
    logins,
)

IDP_LOGOUT = "https://idp.example/logout"
UNAVAILABLE = "The directory cannot be reached now. Try again in a few minutes."


def registry(app: Flask) -> Logins:
    """The app's :class:`Logins`."""
    found: Logins = app.extensions["conexoos"].logins
    return found


@dataclass
class Provider:
    """A redirect provider (as OpenID Connect or SAML): a button, and a callback route that hands the
    identity it is told to over to the product, as a real backend does after its checks."""

    app: Flask
    backend: str = "oidc"
    name: str = "corp"
    label: str = "Log in with Corp ID"
    waiting: dict[str, ExternalIdentity] = field(default_factory=dict)
    _keys: Any = field(default_factory=lambda: itertools.count(1))

    def install(self) -> Provider:
        """Register the callback route and the button (with a logout URL builder)."""
        blueprint = Blueprint(f"test_{self.backend}_{self.name}", __name__)
        blueprint.add_url_rule(f"/_test/{self.backend}/{self.name}/<key>", "callback", self._callback)
        self.app.register_blueprint(blueprint)
        button = LoginButton(self.backend, self.name, self.label, f"/_test/{self.backend}/{self.name}/start")
        registry(self.app).add_button(button, logout=self._logout_url)
        return self

    def identity(self, subject: str, **claims: Any) -> ExternalIdentity:
        """An identity of this provider."""
        return ExternalIdentity(self.backend, self.name, subject, **claims)

    def sign_in(self, client: FlaskClient, subject: str, **claims: Any) -> TestResponse:
        """The browser comes back from the provider with ``subject`` and ``claims`` checked."""
        return self.complete(client, self.identity(subject, **claims))

    def complete(self, client: FlaskClient, identity: ExternalIdentity) -> TestResponse:
        """The browser comes back from the provider with ``identity``."""
        key = str(next(self._keys))
        self.waiting[key] = identity
        return client.get(f"/_test/{self.backend}/{self.name}/{key}")

    def _callback(self, key: str) -> Any:
        if "kept_next" in request.args:  # as OpenID Connect keeps the login's ?next= through the provider
            g.login_next = request.args["kept_next"]
        return logins().complete(self.waiting.pop(key))

    @staticmethod
    def _logout_url(state: Mapping[str, str], return_to: str) -> str | None:
        hint = state.get("id_token_hint")
        return f"{IDP_LOGOUT}?id_token_hint={hint}&return_to={return_to}" if hint else None


@dataclass
class Directory:
    """A password backend (as LDAP): people by login, each with a password and the identity it gives."""

    name: str = "ldap"
    people: dict[str, tuple[str, ExternalIdentity]] = field(default_factory=dict)
    down: bool = False
    refusal: str = ""
    """When set, a right password is refused with this message (403), as a locked directory account."""
    asked: list[str] = field(default_factory=list)

    def add(self, login: str, password: str, subject: str, **claims: Any) -> ExternalIdentity:
        """A person of the directory."""
        identity = ExternalIdentity("ldap", "ldap", subject, **claims)
        self.people[login] = (password, identity)
        return identity

    def authenticate(self, login: str, password: str) -> ExternalIdentity | None:
        """The identity when the password is right; LoginUnavailable while ``down``."""
        self.asked.append(login)
        if self.down:
            raise LoginUnavailable(UNAVAILABLE)
        entry = self.people.get(login)
        if entry and entry[0] == password and self.refusal:
            raise LoginFailed(self.refusal, status=403)
        return entry[1] if entry and entry[0] == password else None


def count(app: Flask, model: Any) -> int:
    """How many rows ``model``'s table holds."""
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def user_named(app: Flask, username: str) -> User:
    """The user ``username``, detached (read its columns)."""
    with app.app_context():
        user = User.get_by_username(username)
        assert user is not None, f"no user {username}"
        db.session.expunge(user)
        return user


def identities_of(app: Flask, user_id: int) -> list[tuple[str, str, str, str]]:
    """(backend, provider, subject, email) of each identity linked to ``user_id``."""
    with app.app_context():
        return [(row.backend, row.provider, row.subject, row.email) for row in IdentityRow.of_user(user_id)]


def users_and_identities(app: Flask) -> tuple[int, int]:
    """How many users and identities exist."""
    return count(app, User), count(app, IdentityRow)
