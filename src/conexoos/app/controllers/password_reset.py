"""Forgotten passwords: a reset link by mail, asked for by email or username.

Asking never tells whether an account exists: the same token is made, the same mail rendered and the
same commit done either way; only a known account's mail is queued. A link is signed, expires after one
hour, and holds fingerprints of the password hash and the address it was made for, so it stops working
once the password changes (by this link: single use, or any other way) or the address does. One account
gets at most three reset mails an hour, however it is named.
"""

from __future__ import annotations

from conexoos.app.controllers.accounts import dummy_password_hash, set_password
from conexoos.app.controllers.external_logins import provider_label
from conexoos.app.controllers.owner_lock import locked_owner
from conexoos.app.controllers.mail import queue_mail_to_account, render_mail
from conexoos.app.controllers.tokens import TokenError, fingerprint, make_token, read_token
from conexoos.app.models.persistent import ExternalIdentity, User
from conexoos.app.models.persistent.base import utcnow
from conexoos.app.utils.rate_limit import count
from conexoos.framework import db
from conexoos.framework.urls import external_url

RESET_PURPOSE = "password-reset"
RESET_MAX_AGE = 3600
USED = "This link was already used, or the password or email address was changed since. Ask for a new one."
MAILS_PER_ACCOUNT = "3/hour"
"""Reset mails one account gets at most, however it is asked for (username, address, many IPs); past it
the visitor sees the same answer and nothing is queued."""


def request_reset(login: str) -> None:
    """Queue a reset link for the account whose email or username is ``login``; for none, do the same
    work and queue nothing."""
    user = User.get_by_login(login)
    password_hash = user.password_hash if user else dummy_password_hash()
    email = user.email if user else login
    payload = {"u": user.id if user else 0, "p": fingerprint(password_hash), "e": fingerprint(email)}
    link = external_url("password_reset.reset", token=make_token(RESET_PURPOSE, payload))
    if user is not None and count(MAILS_PER_ACCOUNT, "mail-password-reset", str(user.id)):
        queue_mail_to_account(user.email, "password_reset", user=user, link=link)
    else:
        render_mail("password_reset", user=None, link=link)  # the rendering work, without a message
    db.session.commit()


def reset_token(user: User) -> str:
    """A reset token for ``user``: it names the account, its password hash and its address."""
    payload = {"u": user.id, "p": fingerprint(user.password_hash), "e": fingerprint(user.email)}
    return make_token(RESET_PURPOSE, payload)


def user_for_reset(token: str) -> User:
    """The account a reset link can still reset; raises :class:`TokenError` (expired, used, garbled)."""
    payload = read_token(RESET_PURPOSE, token, RESET_MAX_AGE)
    user_id = payload.get("u")
    user = User.get_by_id(user_id) if isinstance(user_id, int) and user_id > 0 else None
    if user is None:
        raise TokenError("This link is not valid.")
    _check_unused(payload, user)
    return user


def _check_unused(payload: dict[str, object], user: User) -> None:
    if payload.get("p") != fingerprint(user.password_hash) or payload.get("e") != fingerprint(user.email):
        raise TokenError(USED, expired=True)


def reset_password(token: str, new_password: str) -> User:
    """Set a new password through a reset link; the link proved the address, so it counts as verified.

    Single use also under concurrency: the account's row is locked (see ``owner_lock``) and the link is
    checked again against the password hash as stored now, inside the lock, so of several requests with
    one link the first changes the password and the others find the link used (:class:`TokenError`).

    The sign-ins linked to the account whose provider did not vouch for its address are unlinked in the
    same commit, and the owner is mailed which: whoever made such a sign-in with this address (maybe
    before the mailbox's owner came, to keep a way into their account) may not be them."""
    user = user_for_reset(token)
    with locked_owner(user) as owner:  # a refused password or a used link rolls everything back
        _check_unused(read_token(RESET_PURPOSE, token, RESET_MAX_AGE), owner)
        if owner.email_verified_at is None:
            owner.email_verified_at = utcnow()
        _unlink_unvouched(owner)
        set_password(owner, new_password)  # commits the password, the unlinking and the mail together
    return owner


def _unlink_unvouched(user: User) -> None:
    """Delete (no commit) ``user``'s identities whose address was not vouched for when they were linked,
    and queue a mail naming them."""
    rows = ExternalIdentity.unvouched_of_user(user.id)
    labels = [provider_label(row.backend, row.provider) for row in rows]
    for row in rows:
        db.session.delete(row)
    if labels:
        login = external_url("accounts.login")
        queue_mail_to_account(user.email, "sign_ins_unlinked", user=user, labels=labels, login=login)
