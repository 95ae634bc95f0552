"""The login backends of one app, in the order of ``LOGINS``, and the project's handler of their result."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from flask import Blueprint, current_app
from flask.typing import ResponseReturnValue

from ..errors import ConfigError
from .base import ExternalIdentity, LoginButton, LoginHandler, PasswordBackend

LogoutBuilder = Callable[[Mapping[str, str], str], "str | None"]
"""Given the identity's ``logout_state`` and the absolute URL to come back to, the provider's logout URL
(RP-initiated logout, SAML single logout), or None when the provider offers none."""


class NoLoginHandler(RuntimeError):
    """An external login finished but the project registered no handler (``Logins.on_login``)."""


@dataclass
class Logins:
    """What ``LOGINS`` enabled, at ``runtime().logins``."""

    local_enabled: bool = True
    order: list[str] = field(default_factory=list)
    """Backend names as ``LOGINS`` lists them (``local``, ``ldap``, ``oidc``, ``saml``)."""
    _password: list[PasswordBackend] = field(default_factory=list)
    _buttons: list[LoginButton] = field(default_factory=list)
    _logouts: dict[tuple[str, str], LogoutBuilder] = field(default_factory=dict)
    _handler: LoginHandler | None = None
    cross_site_posts: list[Blueprint] = field(default_factory=list)
    """Blueprints that receive POSTs from an identity provider (SAML's ACS): a project's CSRF protection
    must exempt them (their own checks replace it)."""

    def add_password_backend(self, backend: PasswordBackend) -> None:
        """Try ``backend`` after those already added, on the project's login form."""
        self._password.append(backend)

    def add_button(self, button: LoginButton, logout: LogoutBuilder | None = None) -> None:
        """Show ``button`` on the login page; ``logout`` builds its provider's logout URL."""
        self._buttons.append(button)
        if logout is not None:
            self._logouts[(button.backend, button.provider)] = logout

    def password_backends(self) -> list[PasswordBackend]:
        """The backends that check a typed password, in ``LOGINS`` order (``local`` is the project's)."""
        return list(self._password)

    def buttons(self) -> list[LoginButton]:
        """The redirect providers, in ``LOGINS`` order."""
        return list(self._buttons)

    def on_login(self, handler: LoginHandler) -> LoginHandler:
        """Register the project's answer to a completed external login (usable as a decorator)."""
        self._handler = handler
        return handler

    @property
    def has_handler(self) -> bool:
        """Whether the project (or the flask-framework compatibility layer) registered ``on_login``."""
        return self._handler is not None

    def require_handler(self) -> None:
        """After the project is loaded: a ConfigError when a redirect backend (a login button: OpenID
        Connect, SAML) is enabled but nothing handles its completed logins (each would be a 500). Password
        backends (LDAP) need none: the project's login form calls them itself."""
        if self._buttons and self._handler is None:
            backends = ", ".join(dict.fromkeys(f"LOGINS.{button.backend}" for button in self._buttons))
            raise ConfigError(
                [
                    f"{backends}: enabled, but the project registered no login handler; call "
                    "runtime().logins.on_login(handler) in server/web.py (the framework never creates users)"
                ]
            )

    def complete(self, identity: ExternalIdentity) -> ResponseReturnValue:
        """Hand a checked identity to the project's handler."""
        if self._handler is None:
            raise NoLoginHandler(
                f"{identity.backend} login finished, but the project registered no handler: call "
                "runtime().logins.on_login(handler) in server/web.py"
            )
        return self._handler(identity)

    def logout_url(self, backend: str, provider: str, state: Mapping[str, str], return_to: str) -> str | None:
        """Where to send the browser to log out at the provider too, or None."""
        builder = self._logouts.get((backend, provider))
        return builder(state, return_to) if builder else None


def logins() -> Logins:
    """The :class:`Logins` of the current app."""
    registry: Logins = current_app.extensions["conexoos"].logins
    return registry
