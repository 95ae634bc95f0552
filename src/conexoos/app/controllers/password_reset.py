"""Forgotten passwords: a reset link by mail, asked for by email or username.

Asking never tells whether an account exists, neither by its answer nor by its time: the request only
stores what was typed (one ``reset_request`` row, one commit: the same statements for every login) and a
task, :func:`answer_requests`, run every few seconds, finds the account, applies the per-account cap and
queues the mail. Doing the account's work in the request and a dummy of it otherwise (what this did
before) still differed by the outbox insert and the rendering, a few milliseconds anyone could measure;
moving all of it out of the request leaves nothing to measure. The cost is a mail a few seconds later.

A link is signed, expires after one hour, and holds fingerprints of the password hash and the address it
was made for, so it stops working once the password changes (by this link: single use, or any other way)
or the address does. One account gets at most three reset mails an hour, however it is named.
"""

from __future__ import annotations

from sqlalchemy import select

from conexoos.app.controllers.accounts import set_password
from conexoos.app.controllers.mail import queue_mail_to_account
from conexoos.app.controllers.owner_lock import locked_owner
from conexoos.app.controllers.provider_labels import provider_label
from conexoos.app.controllers.tokens import TokenError, fingerprint, make_token, read_token
from conexoos.app.models.persistent import ExternalIdentity, ResetRequest, User
from conexoos.app.models.persistent.base import utcnow
from conexoos.app.utils.rate_limit import count
from conexoos.framework import db
from conexoos.framework.urls import external_url

RESET_PURPOSE = "password-reset"
RESET_MAX_AGE = 3600
USED = "This link was already used, or the password or email address was changed since. Ask for a new one."
MAILS_PER_ACCOUNT = "3/hour"
"""Reset mails one account gets at most, however it is asked for (username, address, many IPs); past it
nothing is queued (the visitor was answered long before)."""
BATCH = 200
"""Requests one run of :func:`answer_requests` answers at most (the next run takes the rest)."""


def request_reset(login: str, network: str) -> None:
    """Queue the request for a reset link for the account whose email or username is ``login``, asked
    from ``network``; the same statements whatever ``login`` names (see the module's docstring)."""
    db.session.add(
        ResetRequest(login=login.strip().lower()[:254], network=network[:64], requested_at=utcnow())
    )
    db.session.commit()


def answer_requests() -> int:
    """Mail a reset link for each queued request that names an account (within the per-account cap), and
    delete the requests; returns how many were taken. For the task scheduler."""
    requests = db.session.scalars(select(ResetRequest).order_by(ResetRequest.id).limit(BATCH)).all()
    for request in requests:
        user = User.get_by_login(request.login)
        if user is not None and count(MAILS_PER_ACCOUNT, "mail-password-reset", str(user.id)):
            link = external_url("password_reset.reset", token=reset_token(user))
            queue_mail_to_account(user.email, "password_reset", user=user, link=link, network=request.network)
        db.session.delete(request)
    db.session.commit()
    return len(requests)


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
