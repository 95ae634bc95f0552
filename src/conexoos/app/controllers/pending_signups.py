"""Sign-up under ``APP.ACCOUNTS.VERIFY_EMAIL: required``: no account until the address is confirmed.

Making the account at once and mailing a link told, one request later, whether an address was free: the
chosen username was then taken (and the page answered), the password logged in. So a sign-up makes only a
:class:`PendingSignup` row (the name, the address, the password's hash, the invitation, the SHA-256 of a
random secret) and mails the link with the secret to a free address; the account is made, verified, when
the link is confirmed. An address that already has an account gets a row too (its secret is never mailed;
the owner gets the usual notice), so in both cases the username is taken for :data:`VALID_FOR`, no login
works and no page answers. Rows that have run out are deleted by a task (:func:`prune`).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from conexoos.app.models.persistent import PendingSignup, User
from conexoos.app.models.persistent.base import transaction, utcnow
from conexoos.framework import db
from conexoos.framework.urls import external_url

from . import invites, site_settings
from .mail import queue_mail
from .tokens import TokenError

VALID_FOR = timedelta(hours=24)
TAKEN = "This username is taken."
UNUSABLE = (
    "This link was already used, has expired or is not valid. If you confirmed your address, log in; "
    "otherwise sign up again."
)


class UsernameTaken(ValueError):
    """Another sign-up took the username between the check and the insert."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def holds(username: str, now: datetime | None = None) -> bool:
    """Whether a pending sign-up that has not run out holds ``username`` (lowercased)."""
    query = select(PendingSignup.id).where(
        PendingSignup.username == username, PendingSignup.expires_at > (now or utcnow())
    )
    return db.session.scalar(query) is not None


def hold(username: str, email: str, password_hash: str, invite: str | None) -> str:
    """Store a pending sign-up in the current transaction (flushed, not committed); returns the secret of
    its link. :class:`UsernameTaken` (rolled back) when another sign-up took the name meanwhile;
    :class:`~.invites.InviteError` when ``invite`` cannot be used."""
    secret, now = secrets.token_urlsafe(32), utcnow()
    invite_id = invites.usable(invite).id if invite is not None else None
    # A row that ran out but was not pruned yet must not keep the name.
    db.session.execute(
        delete(PendingSignup).where(PendingSignup.username == username, PendingSignup.expires_at <= now)
    )
    db.session.add(
        PendingSignup(
            token_hash=_hash(secret),
            username=username,
            email=email,
            password_hash=password_hash,
            invite_id=invite_id,
            created_at=now,
            expires_at=now + VALID_FOR,
        )
    )
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise UsernameTaken(TAKEN) from None
    return secret


def queue_link(email: str, username: str, secret: str) -> None:
    """Queue the mail with the confirmation link of a pending sign-up (no commit)."""
    link = external_url("accounts.confirm_signup", token=secret)
    queue_mail(email, "signup_confirm", username=username, email=email, link=link)


def pending(secret: str) -> PendingSignup:
    """The pending sign-up of a link that can still be confirmed; :class:`TokenError` otherwise."""
    if not secret or len(secret) > 100 or not secret.isascii():
        raise TokenError(UNUSABLE, expired=True)
    row = db.session.scalar(select(PendingSignup).where(PendingSignup.token_hash == _hash(secret)))
    if row is None or row.expires_at <= utcnow():
        raise TokenError(UNUSABLE, expired=True)
    return row


def confirm(secret: str) -> User:
    """Make the account of a pending sign-up, its address verified, and spend its invitation; one commit.

    :class:`TokenError` when the link cannot be used (also when it was confirmed by a request that
    finished first), when the site closed sign-up since, or when its name or address has an account now.
    """
    row = pending(secret)
    if row.invite_id is None and site_settings.signup_policy() != site_settings.OPEN:
        raise TokenError("Sign-up is closed on this site now; ask its administrators for an invitation.")
    fields = (row.id, row.invite_id)
    user = User(
        email=row.email,
        username=row.username,
        password_hash=row.password_hash,
        subscription_plan=site_settings.default_plan(),
        email_verified_at=utcnow(),
    )
    try:
        _make(user, *fields)
    except invites.InviteError as error:
        raise TokenError(str(error), expired=True) from None
    except IntegrityError:
        raise TokenError(
            "An account with this username or address was made in the meantime: log in, or sign up again.",
            expired=True,
        ) from None
    return user


def _make(user: User, row_id: int, invite_id: int | None) -> None:
    """Delete the row (exactly once: of two confirmations the later deletes nothing) and add ``user``."""
    with transaction():
        result = db.session.execute(delete(PendingSignup).where(PendingSignup.id == row_id))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise TokenError(UNUSABLE, expired=True)
        db.session.add(user)
        db.session.flush()  # the id the invitation names
        if invite_id is not None:
            invites.spend_id(invite_id, user)


def prune(now: datetime | None = None) -> int:
    """Delete the pending sign-ups that have run out; returns how many."""
    with transaction():
        result = db.session.execute(
            delete(PendingSignup).where(PendingSignup.expires_at <= (now or utcnow()))
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
