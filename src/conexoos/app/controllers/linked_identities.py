"""Settings → Linked sign-ins: the identity providers an account logs in through, and unlinking one.

An identity may be unlinked only while another way to log in remains: the site's own password or a
passkey (while ``LOGINS.local`` is on), or another linked identity whose provider is still configured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from conexoos.app.controllers import passkeys, reentered_password
from conexoos.app.controllers.accounts import has_usable_password
from conexoos.app.controllers.provider_labels import provider_label
from conexoos.app.models.persistent import ExternalIdentity, User
from conexoos.framework.logins import logins


class UnlinkRefused(Exception):
    """An identity that may not be unlinked now; ``message`` says why, ``status`` is the HTTP one."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class LinkedView:
    """One linked identity as the settings page lists it."""

    id: int
    label: str
    email: str
    created_at: datetime
    last_login_at: datetime | None
    can_unlink: bool


def is_configured(backend: str, provider: str) -> bool:
    """Whether the provider of an identity is still one ``LOGINS`` enables (so it can still log in)."""
    registry = logins()
    if any((button.backend, button.provider) == (backend, provider) for button in registry.buttons()):
        return True
    return any(found.name == backend == provider for found in registry.password_backends())


def linked_of(user: User) -> list[LinkedView]:
    """``user``'s linked identities, oldest first, each saying whether it may be unlinked now."""
    rows = ExternalIdentity.of_user(user.id)
    return [
        LinkedView(
            row.id,
            provider_label(row.backend, row.provider),
            row.email,
            row.created_at,
            row.last_login_at,
            _other_way_remains(user, row, rows),
        )
        for row in rows
    ]


def needs_password(user: User) -> bool:
    """Whether unlinking asks for ``user``'s password (they have one)."""
    return has_usable_password(user)


def unlink(user: User, identity_id: int, password: str) -> str:
    """Unlink ``user``'s identity ``identity_id`` and return its provider's label. Raises
    :class:`UnlinkRefused`: 404 not theirs, 422 no password given, 403 wrong password, 409 no other way
    to log in would remain."""
    row = ExternalIdentity.get_owned(identity_id, user.id)
    if row is None:
        raise UnlinkRefused("This sign-in is not linked to your account.", 404)
    if needs_password(user) and not password:
        raise UnlinkRefused("Enter your password to unlink this sign-in.", 422)
    if needs_password(user) and not reentered_password.verify(user, password):
        raise UnlinkRefused("That is not your password, so the sign-in stays linked.", 403)
    if not _other_way_remains(user, row, ExternalIdentity.of_user(user.id)):
        raise UnlinkRefused(no_other_way_message())
    label = provider_label(row.backend, row.provider)
    row.delete()
    return label


def no_other_way_message() -> str:
    """Why the only way to log in cannot be unlinked, and what to do first."""
    if logins().local_enabled:
        return (
            "This is your only way to log in, so it cannot be unlinked. Set a password first: "
            '"Forgot your password?" on the login page mails you a link to choose one.'
        )
    return "This is your only way to log in here, so it cannot be unlinked."


def _other_way_remains(user: User, row: ExternalIdentity, rows: Sequence[ExternalIdentity]) -> bool:
    if logins().local_enabled and (has_usable_password(user) or passkeys.count(user) > 0):
        return True
    others = [other for other in rows if other.id != row.id]
    return any(is_configured(other.backend, other.provider) for other in others)
