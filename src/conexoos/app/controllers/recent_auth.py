"""Sudo mode: an administrator's action that grants power (a role, a second factor reset, a deletion, the
suspension of a staff account or its end, a plugin switch) needs a recent proof of who is at the keyboard.

A login less than :data:`RECENT_AUTH` old is that proof; so is the password (and, with two-factor on, a
code) confirmed less than :data:`RECENT_AUTH` ago. The confirmation lives in the server-side session,
bound to the user and to the login session's registry row, so it does not carry over to another login
on the same browser. An account without a password (made through an identity provider) proves it by
logging in again. ``blueprints/recent_auth.py`` asks for it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import session

from conexoos.app.controllers import accounts, reentered_password, second_factor_throttle
from conexoos.app.controllers.second_factor import has_second_factor, verify_second_factor
from conexoos.app.controllers.user_sessions import current_login_age, current_row_id
from conexoos.app.models.persistent import User
from conexoos.app.models.persistent.base import utcnow

RECENT_AUTH = timedelta(minutes=15)
"""How recent a login, or a confirmation of the password, must be for an action that grants power."""
SESSION_KEY = "recent_auth"
"""The session's key for the last confirmation: ``{"user_id", "session_row", "at"}`` (ISO time)."""


class ConfirmationRefused(Exception):
    """What was given does not confirm it is the account's owner; ``message`` says what to do."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def minutes() -> int:
    """:data:`RECENT_AUTH` in whole minutes, for messages."""
    return int(RECENT_AUTH.total_seconds() // 60)


def is_recent(user: User) -> bool:
    """Whether ``user`` (the current request's) logged in, or confirmed access, within :data:`RECENT_AUTH`."""
    age = current_login_age()
    if age is not None and age <= RECENT_AUTH:
        return True
    confirmed = _confirmed_at(user)
    return confirmed is not None and timedelta(0) <= utcnow() - confirmed <= RECENT_AUTH


def needs_login_again(user: User) -> bool:
    """Whether ``user`` has no password to confirm with, so only a fresh login counts."""
    return not accounts.has_usable_password(user)


WRONG_PASSWORD = "That password is not correct. Nothing was done."
WRONG_PASSWORD_OR_CODE = (
    "The password or the code is not correct (a code works once: wait for the next one from your app). "
    "Nothing was done."
)
"""With two-factor on, one refusal for both: which of the two was wrong would tell whoever holds the session
that a password they guessed is right."""


def confirm(user: User, password: str, second_factor_code: str, network: str) -> None:
    """Check ``user``'s password (and code, when two-factor is on), and record the confirmation in the
    session; :class:`ConfirmationRefused` otherwise. A wrong password is counted (and may mail the owner),
    as a wrong code is, from ``network``, as at the login's second step."""
    if needs_login_again(user):
        raise ConfirmationRefused(login_again_message())
    two_factor = has_second_factor(user)
    refusal = WRONG_PASSWORD_OR_CODE if two_factor else WRONG_PASSWORD
    if not password or not reentered_password.verify(user, password):
        raise ConfirmationRefused(refusal, "password")
    if two_factor and not verify_second_factor(user, second_factor_code.strip()):
        second_factor_throttle.record_failure(user, network)
        raise ConfirmationRefused(refusal, "password")
    session[SESSION_KEY] = {"user_id": user.id, "session_row": current_row_id(), "at": utcnow().isoformat()}


def login_again_message() -> str:
    """What an account without a password is told to do instead of confirming."""
    return (
        "Your account has no password here, so this action needs a fresh login: log out, log in again, "
        f"and do it within {minutes()} minutes."
    )


def _confirmed_at(user: User) -> datetime | None:
    """When the current login session of ``user`` last confirmed access, or None (never, or another's)."""
    saved = session.get(SESSION_KEY)
    if not isinstance(saved, dict) or saved.get("user_id") != user.id:
        return None
    row = current_row_id()
    if row is None or saved.get("session_row") != row:
        return None
    try:
        return datetime.fromisoformat(str(saved.get("at")))
    except ValueError:
        return None  # not written by confirm(): no confirmation
