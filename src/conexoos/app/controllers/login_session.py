"""Ending a login, whatever proved who the person is: a password, a second factor, a passkey, a directory
or an identity provider. Every way of logging in ends in :func:`log_in`.

A login through an identity provider also leaves in the session what logging out needs at that provider
(its ``logout_state``), bound to the user it logged in, so that ``/logout`` can send the browser there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import session
from flask_login import login_user

from conexoos.app.controllers import maintenance, pending_link
from conexoos.app.controllers.provider_labels import provider_label
from conexoos.app.controllers.user_sessions import register_current_session
from conexoos.app.models.persistent import User
from conexoos.app.models.persistent.base import utcnow
from conexoos.app.utils.text import is_valid_unicode
from conexoos.framework import regenerate_session
from conexoos.framework.logins import ExternalIdentity, logins
from conexoos.framework.urls import external_url

PROVIDER = "external_login"
"""Session key: the provider the session's user logged in through, and its logout state."""
LEAVING = "provider_logout"
"""Session key (after logout): where the "Logging you out at <provider>" page sends the browser."""


@dataclass(frozen=True)
class ProviderLogout:
    """Where to log out at a provider (``url``, built server-side) and its name for sentences."""

    url: str
    label: str


def log_in(user: User) -> pending_link.Linked | None:
    """Log ``user`` in on a session with a new id (kept server-side from now on) and a new CSRF secret:
    whoever planted the anonymous cookie before knows neither. The session is entered in the registry
    (Settings → Security), without which the user loader refuses it.

    A sign-in waiting to be linked to ``user`` (see :mod:`.pending_link`) is linked now: returned, so the
    person can be told. In maintenance mode only administrators log in (503 with the message for others,
    see :mod:`.maintenance`)."""
    maintenance.refuse_login(user)
    remembered = session.get(PROVIDER)
    regenerate_session()  # and a new CSRF secret
    if not (isinstance(remembered, dict) and remembered.get("user_id") == user.id):
        session.pop(PROVIDER, None)  # a provider's logout state belongs to the login it came with
    linked = pending_link.complete(user)
    login_user(user)
    user.last_login_at = utcnow()
    register_current_session(user)  # commits the registry row, the login time and a link together
    return linked


def remember_provider(user: User, identity: ExternalIdentity) -> None:
    """Keep what logging out at ``identity``'s provider needs, for the login of ``user`` that follows."""
    session[PROVIDER] = {
        "user_id": user.id,
        "backend": identity.backend,
        "provider": identity.provider,
        "state": _storable(identity.logout_state),
    }


def _storable(state: Mapping[str, str]) -> dict[str, str]:
    """The logout state's string entries that a session can store (a lone surrogate cannot be)."""
    return {
        key: value
        for key, value in state.items()
        if isinstance(key, str) and isinstance(value, str) and is_valid_unicode(key + value)
    }


def forget_provider() -> None:
    """Forget any provider's logout state (a login that is not through a provider follows)."""
    session.pop(PROVIDER, None)


def provider_logout_url() -> str | None:
    """Where to send the browser to log out at the provider the session's user logged in through (it
    comes back to the home page), or None when there is none or it offers no logout."""
    remembered: Any = session.get(PROVIDER)
    if not isinstance(remembered, dict):
        return None
    state = remembered.get("state")
    return logins().logout_url(
        str(remembered.get("backend")),
        str(remembered.get("provider")),
        state if isinstance(state, dict) else {},
        external_url("public.home"),
    )


def provider_logout() -> ProviderLogout | None:
    """The provider logout the session's login needs (its URL and the provider's name), or None."""
    url = provider_logout_url()
    remembered: Any = session.get(PROVIDER)
    if url is None or not isinstance(remembered, dict):
        return None
    label = provider_label(str(remembered.get("backend")), str(remembered.get("provider")))
    return ProviderLogout(url, label)


def keep_provider_logout(leaving: ProviderLogout) -> None:
    """Keep ``leaving`` in the (new, anonymous) session for the page that sends the browser on to it: a
    form's redirect to another site is blocked by the CSP's ``form-action 'self'``, a page's is not."""
    session[LEAVING] = {"url": leaving.url, "label": leaving.label}


def take_provider_logout() -> ProviderLogout | None:
    """The provider logout kept by :func:`keep_provider_logout` (forgotten now), or None."""
    kept: Any = session.pop(LEAVING, None)
    if not isinstance(kept, dict) or not isinstance(kept.get("url"), str):
        return None
    return ProviderLogout(kept["url"], str(kept.get("label", "")))
