"""What every login backend gives the project, and how it fails.

Password backends (LDAP) check a login and password typed into the project's own form. Redirect backends
(OpenID Connect, SAML) send the browser to an identity provider and take it back on a route of their own.
Either way the project receives an :class:`ExternalIdentity` and decides what it means (a new account, a
link to an existing one, a refusal): the framework never creates users itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from flask.typing import ResponseReturnValue


@dataclass(frozen=True)
class ExternalIdentity:
    """A person as an identity provider asserted them, after every check the backend makes."""

    backend: str
    """``ldap``, ``oidc`` or ``saml``."""
    provider: str
    """Which one of that backend: ``ldap``, the provider's name under ``LOGINS.oidc``, or ``saml``."""
    subject: str
    """The provider's stable id for the person (LDAP entryUUID, OIDC ``sub``, SAML persistent NameID)."""
    username: str | None = None
    """The username the provider suggests; the project checks it is free and valid."""
    email: str | None = None
    email_verified: bool = False
    """Whether the provider vouches for ``email`` (OIDC ``email_verified``; LDAP, SAML: configured)."""
    name: str | None = None
    admin: bool | None = None
    """What the group, claim or attribute mapping says; None: no mapping configured (keep the role)."""
    logout_state: Mapping[str, str] = field(default_factory=dict)
    """What a later RP-initiated logout or SAML single logout needs (``id_token_hint``, ``name_id``, ...);
    JSON-serialisable strings, kept in the session by the project."""


class LoginFailed(Exception):
    """A login the backend refused or could not finish; ``message`` is shown to the person as it is."""

    status = 400

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class LoginUnavailable(LoginFailed):
    """The directory or identity provider cannot be reached or answered nonsense: try again later."""

    status = 503


LoginHandler = Callable[[ExternalIdentity], ResponseReturnValue]
"""The project's answer to a completed external login (log the person in, link, or refuse)."""


class PasswordBackend(Protocol):
    """A backend that checks a login and password typed into the project's login form."""

    name: str

    def authenticate(self, login: str, password: str) -> ExternalIdentity | None:
        """The identity when ``password`` is right for ``login``; None when this backend does not know
        the login or the password is wrong (the next backend is tried). Raises :class:`LoginUnavailable`
        when the directory cannot be asked."""
        ...


@dataclass(frozen=True)
class LoginButton:
    """A provider shown as a button on the login page."""

    backend: str
    provider: str
    label: str
    url: str
