"""Mail to the owner when what protects the account changes (a second factor on or off, a passkey added
or removed), so that someone else doing it with a stolen session is seen."""

from __future__ import annotations

from conexoos.app.controllers.mail import queue_mail_to_account
from conexoos.app.models.persistent import User
from conexoos.app.models.persistent.base import transaction

TOTP_ON = "An authenticator app was set up: logging in now asks for one of its codes."
TOTP_OFF = "The authenticator app was turned off."
PASSKEY_ADDED = "A passkey was added"
PASSKEY_REMOVED = "A passkey was removed"
RESET_BY_STAFF = (
    "The site's staff turned two-factor authentication off: your authenticator app, passkeys and recovery "
    "codes were removed, and your password alone now logs in. If you did not ask them to, write to them."
)


def notify_second_factor_change(user: User, change: str) -> None:
    """Queue (and commit) the ``second_factor_changed`` mail to ``user`` saying ``change`` in a sentence."""
    with transaction():
        queue_mail_to_account(user.email, "second_factor_changed", user=user, change=change)


def passkey_change(what: str, name: str) -> str:
    """The sentence for a passkey ``what`` (:data:`PASSKEY_ADDED`, :data:`PASSKEY_REMOVED`) named ``name``."""
    return f"{what}: “{name}”."


def queue_second_factor_reset(user: User) -> None:
    """Queue, in the caller's transaction, the ``second_factor_changed`` mail telling ``user`` that staff
    (the admin panel, ``conexoos user disable-2fa``) removed their second factors."""
    queue_mail_to_account(
        user.email, "second_factor_changed", user=user, change=RESET_BY_STAFF, by_staff=True
    )
