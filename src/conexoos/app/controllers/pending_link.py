"""A sign-in at an identity provider waiting to be linked to an existing account.

When a provider's first sign-in names the address of an account here but may not be linked to it at once
(the provider does not vouch for the address, or ``APP.ACCOUNTS.SSO_LINK_BY_EMAIL`` is off), the person
is asked to log in to that account once, the usual way. The sign-in waits in the session for
:data:`LIFETIME` seconds, bound to that account: the next login to it in this browser (password, second
factor, passkey) links it, and the person is told. A login to any other account drops it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from flask import session

from conexoos.app.controllers.role_mapping import apply_role_mapping
from conexoos.app.models.persistent import ExternalIdentity as IdentityRow
from conexoos.app.models.persistent import User
from conexoos.app.models.persistent.base import utcnow
from conexoos.framework import db
from conexoos.framework.logins import ExternalIdentity

KEY = "pending_external_link"
LIFETIME = 600


@dataclass(frozen=True)
class Waiting:
    """A sign-in waiting for a login to the account it named."""

    label: str
    """The provider, as the login page names it."""
    email: str


@dataclass(frozen=True)
class Linked:
    """A sign-in linked at a login: the provider's label and the address it gave."""

    label: str
    email: str


def begin(user: User, identity: ExternalIdentity, email: str, label: str) -> None:
    """Keep ``identity`` waiting for a login to ``user``."""
    session[KEY] = {
        "user_id": user.id,
        "backend": identity.backend,
        "provider": identity.provider,
        "subject": identity.subject,
        "email": email,
        "admin": identity.admin,
        "label": label,
        "expires": time.time() + LIFETIME,
    }


def current() -> Waiting | None:
    """The sign-in waiting in this session, or None (none, or expired)."""
    state = _state()
    return Waiting(str(state["label"]), str(state["email"])) if state else None


def complete(user: User) -> Linked | None:
    """Link the waiting sign-in to ``user`` when it was waiting for them (no commit: the login commits);
    drop it either way. None when nothing was linked."""
    state = _state()
    session.pop(KEY, None)
    if state is None or state.get("user_id") != user.id:
        return None
    if IdentityRow.find(state["backend"], state["provider"], state["subject"]) is not None:
        return None  # linked meanwhile (to this account or another): nothing to do
    db.session.add(
        IdentityRow(
            user_id=user.id,
            backend=state["backend"],
            provider=state["provider"],
            subject=state["subject"],
            email=state["email"],
            email_vouched=True,  # the account's owner linked it, by logging in to the account
            last_login_at=utcnow(),
        )
    )
    admin = state.get("admin")
    mapped = ExternalIdentity(
        state["backend"],
        state["provider"],
        state["subject"],
        admin=admin if isinstance(admin, bool) else None,
    )
    apply_role_mapping(user, mapped)  # as at every sign-in of the provider
    return Linked(str(state["label"]), str(state["email"]))


def clear() -> None:
    """Forget the waiting sign-in."""
    session.pop(KEY, None)


def _state() -> dict[str, Any] | None:
    state = session.get(KEY)
    if not isinstance(state, dict):
        return None
    if float(state.get("expires", 0)) < time.time():
        session.pop(KEY, None)
        return None
    return state
