"""Undoing a change of address from the old address: "this wasn't me".

When an address changes, the notice to the old address carries an undo link. It names the account, the
old address and a fingerprint of the new one with the second it was verified at (the change), so it works
only while the account still uses that new address from that change (once followed the account is back
on the old one: the link is spent; back on the new address through a later change and its undo, the link
stays spent). Undoing restores the old
address as verified, makes the password unusable (whoever changed the address knew it; the reset links
made for it stop working too), removes every second factor and passkey (whoever held the session may have
added their own: a passkey would let them straight back in, an authenticator app would lock the owner out
after the reset), ends every session of the account, and mails the restored address how to set a new
password through "forgot password".
"""

from __future__ import annotations

from datetime import UTC

from sqlalchemy.exc import IntegrityError

from conexoos.app.controllers.accounts import disable_password
from conexoos.app.controllers.mail import queue_mail_to_account
from conexoos.app.controllers.second_factor import disable_second_factors
from conexoos.app.controllers.tokens import TokenError, fingerprint, make_token, read_token
from conexoos.app.controllers.user_sessions import end_sessions
from conexoos.app.models.persistent import User
from conexoos.app.models.persistent.base import utcnow
from conexoos.framework import db
from conexoos.framework.urls import external_url

UNDO_PURPOSE = "undo-email-change"
UNDO_MAX_AGE = 7 * 24 * 3600
SPENT = "This change was already undone, or the address was changed again since."


class AddressTaken(TokenError):
    """The old address belongs to another account now: it cannot be given back."""


def undo_link(user: User, old_email: str, new_email: str) -> str:
    """The absolute undo link for the change of ``user``'s address from ``old_email`` to ``new_email``
    (``user.email_verified_at`` being the time of that change)."""
    payload = {"u": user.id, "old": old_email, "new": _change_fingerprint(new_email, user)}
    return external_url("email.undo_change", token=make_token(UNDO_PURPOSE, payload))


def _change_fingerprint(address: str, user: User) -> str:
    """The address and the second it was verified at: the account back on ``address`` through another
    change later (an undo of a newer change) does not bring an older link back."""
    verified = user.email_verified_at
    second = int(verified.replace(tzinfo=verified.tzinfo or UTC).timestamp()) if verified else 0
    return fingerprint(f"{address}|{second}")


def undo_request(token: str) -> tuple[User, str]:
    """The account and the address an undo link can still restore; else :class:`TokenError`."""
    payload = read_token(UNDO_PURPOSE, token, UNDO_MAX_AGE)
    user_id, old_email = payload.get("u"), payload.get("old")
    user = User.get_by_id(user_id) if isinstance(user_id, int) else None
    if user is None or not isinstance(old_email, str):
        raise TokenError("This link is not valid.")
    if payload.get("new") != _change_fingerprint(user.email, user):
        raise TokenError(SPENT, expired=True)
    _check_free(user, old_email)
    return user, old_email


def undo_email_change(token: str) -> User:
    """Give the account its old address back (verified), disable its password, remove its second factors
    and passkeys, end all its sessions and mail the old address; :class:`TokenError` (or
    :class:`AddressTaken`) when it cannot."""
    user, old_email = undo_request(token)
    user.email, user.email_verified_at = old_email, utcnow()
    disable_password(user)
    disable_second_factors(user)
    queue_mail_to_account(old_email, "email_change_undone", user=user, email=old_email)
    try:
        db.session.commit()
    except IntegrityError:  # another account took the address between the check and the commit
        db.session.rollback()
        raise _taken(old_email) from None
    end_sessions(user, keep_current=False)
    return user


def _check_free(user: User, old_email: str) -> None:
    other = User.get_by_login(old_email)
    if other is not None and other.id != user.id:
        raise _taken(old_email)


def _taken(old_email: str) -> AddressTaken:
    return AddressTaken(
        f"Another account uses {old_email} now, so it cannot be given back; nothing was changed. "
        "Contact us (see /.well-known/security.txt) to recover the account."
    )
