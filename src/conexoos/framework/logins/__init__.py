"""Login backends chosen in ``LOGINS``: the project's own password login, LDAP / Active Directory,
OpenID Connect providers and a SAML 2.0 identity provider."""

from .base import ExternalIdentity, LoginButton, LoginFailed, LoginHandler, LoginUnavailable, PasswordBackend
from .registry import Logins, NoLoginHandler, logins

__all__ = [
    "ExternalIdentity",
    "LoginButton",
    "LoginFailed",
    "LoginHandler",
    "LoginUnavailable",
    "Logins",
    "NoLoginHandler",
    "PasswordBackend",
    "logins",
]
