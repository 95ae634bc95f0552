"""An account's email address: verifying it, and changing it (the new address must be verified first).

Verification links name the account and a fingerprint of the address they were sent to, so a link
stops working once the address changes. A change of address is carried by its token alone (nothing is
stored but a random value naming the newest request): the new address becomes the account's only when
the link mailed to it is followed. That link names the address it replaces, a fingerprint of the password
hash and of the newest request's value, so it works once and not after a newer request, a password
change or "log out everywhere else" (an undo too: see ``email_change_undo``). The current address is
told when a change is asked for.
"""

from __future__ import annotations

import secrets

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from conexoos.app.controllers import reentered_password
from conexoos.app.controllers.email_change_undo import undo_link
from conexoos.app.controllers.mail import queue_mail, queue_mail_to_account
from conexoos.app.controllers.tokens import TokenError, fingerprint, make_token, read_token
from conexoos.app.models.persistent import AuditEntry, User
from conexoos.app.models.persistent.base import utcnow
from conexoos.app.utils.email_address import canonical_email
from conexoos.framework import db
from conexoos.framework.urls import external_url

VERIFY_PURPOSE = "verify-email"
VERIFY_MAX_AGE = 3 * 24 * 3600
CHANGE_PURPOSE = "change-email"
CHANGE_MAX_AGE = 24 * 3600


class ChangeDone(TokenError):
    """A change link that cannot be used again because the account's address is already the one it names
    (it was used): the change it confirmed is done. ``user`` is the account, for its owner's page."""

    def __init__(self, user: User) -> None:
        super().__init__("This link was already used. The change it confirmed is done.", expired=True)
        self.user = user


class EmailChangeError(ValueError):
    """A change of address that cannot be asked for; ``field`` names the form field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


SETUP_ACTION = "setup.complete"
"""The audit entry ``/setup`` writes, its target the first administrator."""


def queue_verification(user: User, made_at: str = "", at_setup: bool = False) -> None:
    """Queue the mail with ``user``'s verification link (a welcome when verification is off); no commit.
    ``made_at``: the provider whose sign-in made the account just now (the mail says so). ``at_setup``:
    the site's first administrator, made by ``/setup`` (the mail says so, not "if you did not sign up")."""
    if current_app.config["CONEXOOS_ACCOUNTS"].verify_email == "off":
        queue_mail(user.email, "welcome", user=user, made_at=made_at)
        return
    token = make_token(VERIFY_PURPOSE, {"u": user.id, "e": fingerprint(user.email)})
    link = external_url("email.verify", token=token)
    queue_mail(user.email, "verify_email", user=user, link=link, made_at=made_at, at_setup=at_setup)


def resend_verification(user: User) -> None:
    """Send the verification link again (the caller rate-limits); nothing when already verified."""
    if user.email_verified:
        return
    queue_verification_again(user)  # the address was checked by the sign-up or change form
    db.session.commit()


def queue_verification_again(user: User) -> None:
    """:func:`queue_verification` for an account made earlier: the first administrator's mail says again
    that the address was given at setup, not "if you did not sign up"; no commit."""
    queue_verification(user, at_setup=made_at_setup(user))


def made_at_setup(user: User) -> bool:
    """Whether ``user`` is the first administrator that ``/setup`` made (its audit entry says so)."""
    found = select(AuditEntry.id).where(
        AuditEntry.action == SETUP_ACTION,
        AuditEntry.target_type == User.__tablename__,
        AuditEntry.target_id == str(user.id),
    )
    return db.session.scalar(found.limit(1)) is not None


def verification_request(token: str) -> User:
    """The account whose address a verification link was sent to, still using it (nothing is changed);
    :class:`TokenError` if the link cannot verify it."""
    payload = read_token(VERIFY_PURPOSE, token, VERIFY_MAX_AGE)
    user = _user(payload)
    if payload.get("e") != fingerprint(user.email):
        raise TokenError("This link was sent to an address the account no longer uses.", expired=True)
    return user


def verify_email(token: str) -> User:
    """Mark the address a verification link was sent to as verified; :class:`TokenError` if it cannot."""
    user = verification_request(token)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        user.save()
    return user


def request_email_change(user: User, password: str, new_email: str) -> None:
    """Mail a confirmation link to ``new_email`` (after checking ``password``) and a notice to the current
    address; the address changes only when the link is followed. An address another account uses gets a
    notice instead of a link; the answer is the same. Only the newest request's link works.

    Raises :class:`EmailChangeError` for a wrong password or the current address.
    """
    if not reentered_password.verify(user, password):
        raise EmailChangeError("password", "This is not your current password.")
    new_email = canonical_email(new_email)
    if new_email == user.email:
        raise EmailChangeError("email", "This is already your address.")
    user.email_change_nonce = secrets.token_hex(16)  # ends the links of every earlier request
    if User.get_by_login(new_email) is not None:
        queue_mail(new_email, "email_taken_notice")
    else:
        token = make_token(CHANGE_PURPOSE, _change_payload(user, new_email))
        link = external_url("email.confirm_change", token=token)
        queue_mail(new_email, "email_change_verify", user=user, link=link)
    queue_mail_to_account(user.email, "email_change_requested", user=user, masked=masked_address(new_email))
    db.session.commit()


def change_request(token: str) -> tuple[User, str]:
    """The account and the new address of a change link that can still be used; else :class:`TokenError`.

    A link is bound to the address it replaces, the password hash, and the newest request (see
    ``User.email_change_nonce``): a confirmation, a newer request, a password change or ending the other
    sessions ends it.
    """
    payload = read_token(CHANGE_PURPOSE, token, CHANGE_MAX_AGE)
    user = _user(payload)
    new_email = payload.get("new")
    if isinstance(new_email, str) and payload != _change_payload(user, new_email) and user.email == new_email:
        raise ChangeDone(user)
    if not isinstance(new_email, str) or payload != _change_payload(user, new_email):
        raise TokenError(
            "This link was already used, or a newer change was asked for, or the password was changed since.",
            expired=True,
        )
    return user, new_email


def end_pending_change(user: User) -> None:
    """Make every pending change link of ``user`` unusable (the caller commits)."""
    user.email_change_nonce = None


def masked_address(address: str) -> str:
    """``n***@example.com``: enough for the owner to recognise an address, not to read it whole."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


def _change_payload(user: User, new_email: str) -> dict[str, object]:
    nonce = user.email_change_nonce
    return {
        "u": user.id,
        "old": fingerprint(user.email),
        "new": new_email,
        "p": fingerprint(user.password_hash),
        "n": fingerprint(nonce) if nonce else None,
    }


def confirm_email_change(token: str) -> User:
    """Make the link's new address the account's (verified), and tell the old address (with a link that
    undoes the change)."""
    user, new_email = change_request(token)
    old_email = user.email
    user.email, user.email_verified_at = new_email, utcnow()
    undo = undo_link(user, old_email)
    end_pending_change(user)  # single use
    queue_mail_to_account(
        old_email, "email_change_notice", user=user, old_email=old_email, new_email=new_email, undo=undo
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise TokenError("Another account uses this address now; nothing was changed.") from None
    return user


def _user(payload: dict[str, object]) -> User:
    user_id = payload.get("u")
    user = User.get_by_id(user_id) if isinstance(user_id, int) else None
    if user is None:
        raise TokenError("This link is for an account that was deleted since.", account_gone=True)
    return user
