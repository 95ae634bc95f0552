"""Single-use invitation links for sign-up under the ``invite`` policy.

An admin makes a link (``/signup?invite=<secret>``), shown once and, when they give an address, mailed
there; only the SHA-256 of the secret is stored. The link
works once, until it expires; sign-up spends it in the transaction that creates the account, with a
conditional update, so two sign-ups racing with one link make one account.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from conexoos.app.models.persistent import Invite, User
from conexoos.app.models.persistent.base import utcnow
from conexoos.app.utils.email_address import InvalidEmail, normalize_email
from conexoos.framework import db
from conexoos.framework.urls import external_url

from . import audit, mail

VALID_FOR = timedelta(days=14)
NOTE_MAX = 100
"""The longest note an invitation keeps (the address, when it is the note, is cut to it)."""
ADDRESS_MAX = 254
"""The longest address an invitation is mailed to: the longest sign-up takes (RFC 5321's path, less
its angle brackets)."""


class InviteError(ValueError):
    """An invitation that cannot be used (unknown, used or expired); the message says which."""


@dataclass(frozen=True)
class NewInvite:
    """A just-made invitation and its link (the secret is shown once, never stored)."""

    invite: Invite
    url: str
    mailed_to: str = ""
    """The address the link was mailed to, or "" when it was only shown."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(creator: User, note: str = "", email: str = "") -> NewInvite:
    """Make, audit-log and commit an invitation by ``creator``; returns it with its link. With ``email``,
    the link is also mailed there (queued in the same transaction), and the note defaults to the address.

    Raises :class:`InviteError` for an address that cannot be mailed or that an account uses already.
    """
    address = _invitee(email) if email.strip() else ""
    secret = secrets.token_urlsafe(24)
    now = utcnow()
    invite = Invite(
        token_hash=_hash(secret),
        note=(note.strip() or address)[:NOTE_MAX],
        mailed_to=address,
        created_by_id=creator.id,
        created_at=now,
        expires_at=now + VALID_FOR,
    )
    db.session.add(invite)
    db.session.flush()
    made = NewInvite(invite, external_url("accounts.signup", invite=secret), address)
    after = {
        "note": invite.note,
        "expires_at": invite.expires_at,
        **({"mailed_to": address} if address else {}),
    }
    audit.record("invite.create", invite, None, after, f"invitation {invite.id} made", actor=creator)
    if address:
        mail.queue_mail(address, "invitation", link=made.url, expires_at=invite.expires_at)
    db.session.commit()
    return made


def _invitee(email: str) -> str:
    """The address to mail an invitation to, stored form; :class:`InviteError` for one that cannot be
    mailed or that an account uses already (its owner needs no invitation)."""
    if len(email.strip()) > ADDRESS_MAX:
        raise InviteError(f"An email address holds at most {ADDRESS_MAX} characters.")
    try:
        address = normalize_email(email)
    except InvalidEmail as error:
        raise InviteError(str(error)) from None
    existing = User.get_by_login(address)
    if existing is not None:
        raise InviteError(f"{existing.username} has an account with this address already.")
    return address


def usable(secret: str) -> Invite:
    """The unused, unexpired invitation of ``secret``; :class:`InviteError` otherwise."""
    if not secret or not secret.isascii() or len(secret) > 100:
        raise InviteError("This sign-up needs an invitation link from the site's administrators.")
    invite = db.session.scalar(select(Invite).where(Invite.token_hash == _hash(secret)))
    if invite is None:
        raise InviteError("This invitation link is not valid.")
    if invite.used_at is not None:
        raise InviteError("This invitation link was already used.")
    if invite.revoked_at is not None:
        raise InviteError("This invitation link was revoked by the site's administrators. Ask for a new one.")
    if invite.expires_at <= utcnow():
        raise InviteError("This invitation link has expired. Ask for a new one.")
    return invite


def spend(secret: str, user: User) -> None:
    """Mark the invitation of ``secret`` used by ``user`` in the current transaction (no commit);
    :class:`InviteError` when another sign-up spent it first."""
    invite_id = db.session.scalar(select(Invite.id).where(Invite.token_hash == _hash(secret)))
    if invite_id is None:
        raise InviteError("This invitation link is not valid.")
    spend_id(invite_id, user)


def spend_id(invite_id: int, user: User) -> None:
    """:func:`spend` for the invitation ``invite_id`` (a pending sign-up keeps the id, not the secret)."""
    now = utcnow()
    result = db.session.execute(
        update(Invite)
        .where(Invite.id == invite_id, Invite.used_at.is_(None), Invite.expires_at > now)
        .values(used_at=now, used_by_id=user.id)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise InviteError("This invitation link was already used.")
    audit.record(
        "invite.use",
        ("invite", invite_id),
        {"used_at": None},
        {"used_at": now, "used_by": user.username},
        f"invitation {invite_id} used by {user.username}",
        actor=user,
    )


@dataclass(frozen=True)
class InviteRow:
    """One invitation as the admin's list shows it."""

    invite: Invite
    state: str
    """``open``, ``used``, ``revoked`` or ``expired``."""
    used_by: str
    """The username of the account it made ("" when unused; "a deleted account" when that is gone)."""


def recent(limit: int = 20) -> Sequence[InviteRow]:
    """The newest invitations, for the admin's list, with their state and who used them (one query)."""
    rows = db.session.execute(
        select(Invite, User.username)
        .outerjoin(User, User.id == Invite.used_by_id)
        .order_by(Invite.id.desc())
        .limit(limit)
    ).all()
    now = utcnow()
    return [_row(invite, username, now) for invite, username in rows]


def _row(invite: Invite, username: str | None, now: datetime) -> InviteRow:
    if invite.used_at is not None:
        return InviteRow(invite, "used", username or "a deleted account")
    if invite.revoked_at is not None:
        return InviteRow(invite, "revoked", "")
    return InviteRow(invite, "expired" if invite.expires_at <= now else "open", "")


def count() -> int:
    """How many invitations exist (the list says how many it does not show)."""
    return int(db.session.scalar(select(func.count()).select_from(Invite)) or 0)


def revoke(invite_id: int) -> Invite:
    """End an open invitation now (it expires at once), audit-logged and committed; ``LookupError`` when
    there is none with ``invite_id``, :class:`InviteError` when it was already used, revoked or expired."""
    invite = db.session.get(Invite, invite_id)
    if invite is None:
        raise LookupError(f"There is no invitation {invite_id}.")
    now = utcnow()
    if invite.used_at is not None:
        raise InviteError(f"Invitation {invite_id} was already used.")
    if invite.revoked_at is not None:
        raise InviteError(f"Invitation {invite_id} has already been revoked.")
    if invite.expires_at <= now:
        raise InviteError(f"Invitation {invite_id} has already expired.")
    before = {"expires_at": invite.expires_at, "revoked_at": None}
    invite.expires_at = invite.revoked_at = now
    after = {"expires_at": now, "revoked_at": now}
    audit.record("invite.revoke", invite, before, after, f"invitation {invite_id} revoked")
    db.session.commit()
    return invite
