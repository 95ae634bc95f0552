"""Undoing a change of address from the old address: "this wasn't me".

When an address changes, the notice to the old address carries an undo link. It names the account, the
old address and the second of the change. It works for a week, through later changes of address too:
whoever knew the password could otherwise change the address twice, and the second change (whose notice
goes to their own first address) killed the owner's link. It is spent by an undo of its own change or of
an earlier one, made after it was mailed: the account was then given back an address at least as old.
So an undo link of a later change (mailed to an address the intruder chose) cannot spend the owner's,
and once the owner's is followed, every later change's link is spent. A link mailed before revision 0030
keeps its own rule: it works only while the account still uses the new address from that change.

Undoing restores the old address as verified, makes the password unusable (whoever changed the address
knew it; the reset links made for it stop working too), removes every second factor and passkey (whoever
held the session may have added their own: a passkey would let them straight back in, an authenticator
app would lock the owner out after the reset), ends every session of the account, and mails the restored
address how to set a new password through "forgot password".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

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

TAKEN_BACK_PREFIX = "address-taken-back-"
"""The local part given to an unverified account whose address an undo took back (in the ``.invalid``
domain, which never receives mail); its owner sets a real one in Settings."""
UNDO_PURPOSE = "undo-email-change"
UNDO_MAX_AGE = 7 * 24 * 3600
log = logging.getLogger("conexoos.accounts")
SPENT = "This change was already undone, or the address was changed again since."


class AddressTaken(TokenError):
    """The old address belongs to another account now: it cannot be given back."""


def undo_link(user: User, old_email: str) -> str:
    """The absolute undo link for the change of ``user``'s address from ``old_email`` to the one it has now
    (``user.email_verified_at`` being the time of that change)."""
    payload = {"u": user.id, "old": old_email, "at": _second(user.email_verified_at)}
    return external_url("email.undo_change", token=make_token(UNDO_PURPOSE, payload))


def _second(moment: datetime | None) -> int:
    """``moment`` in whole seconds since the epoch (0 for none); a naive one is UTC, as stored."""
    return int(moment.replace(tzinfo=moment.tzinfo or UTC).timestamp()) if moment else 0


def _change_fingerprint(address: str, user: User) -> str:
    """A link mailed before revision 0030 names the new address and the second it was verified at."""
    return fingerprint(f"{address}|{_second(user.email_verified_at)}")


def undo_request(token: str) -> tuple[User, str]:
    """The account and the address an undo link can still restore; else :class:`TokenError`."""
    undo = _undoable(token)
    return undo.user, undo.old_email


@dataclass(frozen=True)
class _Undo:
    """What an undo link can still do: give ``user`` back ``old_email`` (verified: following the link
    proves its mailbox) as before the change at ``changed_at``, taking it from ``squatter`` (see
    :func:`_holder`) when one holds it."""

    user: User
    old_email: str
    changed_at: int
    squatter: User | None


def _undoable(token: str) -> _Undo:
    payload = read_token(UNDO_PURPOSE, token, UNDO_MAX_AGE)
    user_id, old_email = payload.get("u"), payload.get("old")
    user = User.get_by_id(user_id) if isinstance(user_id, int) else None
    if user is None or not isinstance(old_email, str):
        raise TokenError("This link is not valid.")
    changed_at = payload.get("at")
    if isinstance(changed_at, int):
        if user.email == old_email or _spent(user, changed_at):
            raise TokenError(SPENT, expired=True)
    elif payload.get("new") == _change_fingerprint(user.email, user):
        changed_at = _second(user.email_verified_at)  # mailed before 0030: the account's last change
    else:
        raise TokenError(SPENT, expired=True)
    return _Undo(user, old_email, changed_at, _holder(user, old_email, changed_at))


def _spent(user: User, changed_at: int) -> bool:
    """Whether an undo of this change, or of an earlier one, came after it (see the module)."""
    undone_from, undone_at = _second(user.email_undone_from), _second(user.email_undone_at)
    return bool(user.email_undone_at) and undone_from <= changed_at <= undone_at


def undo_email_change(token: str) -> User:
    """Give the account its old address back (verified), disable its password, remove its second factors
    and passkeys, end all its sessions and mail the old address; :class:`TokenError` (or
    :class:`AddressTaken`) when it cannot."""
    undo = _undoable(token)
    user, old_email, squatter = undo.user, undo.old_email, undo.squatter
    if squatter is not None:
        squatter.email = f"{TAKEN_BACK_PREFIX}{squatter.id}@invalid"  # unique, and no mail reaches it
        squatter.email_verified_at = None
        db.session.flush()  # before the address is the account's again (the column is unique)
        log.info(
            "address taken back from account %s (made since the change) by an undo of account %s",
            squatter.id,
            user.id,
        )
    now = utcnow()
    _record_undo(user, undo.changed_at, now)
    replaced = user.email
    user.email, user.email_verified_at = old_email, now
    disable_password(user)
    disable_second_factors(user)
    queue_mail_to_account(old_email, "email_change_undone", user=user, email=old_email)
    # The address given up is told too: after a change the owner made, the old mailbox's reader undid it.
    queue_mail_to_account(
        replaced, "email_change_undone_elsewhere", user=user, email=old_email, replaced=replaced
    )
    try:
        db.session.commit()
    except IntegrityError:  # another account took the address between the check and the commit
        db.session.rollback()
        raise _taken(old_email) from None
    end_sessions(user, keep_current=False)
    return user


def _record_undo(user: User, changed_at: int, now: datetime) -> None:
    """Spend the links of this change and of every later one mailed until ``now``; an undo within the
    week of the one before widens its span (so a link it spent stays spent)."""
    earlier = user.email_undone_at
    recent = earlier is not None and _second(now) - _second(earlier) < UNDO_MAX_AGE
    start = min(changed_at, _second(user.email_undone_from)) if recent else changed_at
    user.email_undone_from, user.email_undone_at = datetime.fromtimestamp(start, UTC), now


def _holder(user: User, old_email: str, changed_at: int) -> User | None:
    """The other account that holds ``old_email`` but may not keep it: one made since the change (anyone
    can sign up with an address that was let go, and so block its owner's undo; a link scanner opening the
    verification link mailed there verifies it); None when no other account holds it.
    :class:`AddressTaken` when one made before holds it (it changed to it, confirmed from that mailbox)."""
    other = User.get_by_login(old_email)
    if other is None or other.id == user.id:
        return None
    if _second(other.created_at) >= changed_at:
        return other
    raise _taken(old_email)


def _taken(old_email: str) -> AddressTaken:
    return AddressTaken(
        f"Another account uses {old_email} now, so it cannot be given back; nothing was changed. "
        "Contact us (see /.well-known/security.txt) to recover the account."
    )
