"""Sign-up that does not tell whether an email address has an account.

An address that already has an account gets a mail to its owner ("someone tried to sign up with your
address"); the visitor is answered as for a new one. A taken username is still reported: usernames are
public (they are page addresses).

- ``VERIFY_EMAIL: required``: no account is made, in either case. A pending sign-up holds the username
  and a new address is mailed a link that makes the account (see :mod:`.pending_signups`), so nothing
  tells the two cases apart later either: the name is taken, no page answers, no login works.
- ``optional`` and ``off``: a new address gets its account at once, with a verification link (a welcome
  when verification is off). The account existing is then the residual signal the README states: the
  username chosen for a known address stays free, and ``required`` closes that.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy.exc import IntegrityError

from conexoos.app.controllers import invites, pending_signups, site_settings
from conexoos.app.controllers.accounts import SignupError, check_new_username, hash_password
from conexoos.app.controllers.email_addresses import queue_verification
from conexoos.app.controllers.mail import queue_mail_to_account
from conexoos.app.controllers.password_policy import password_problem
from conexoos.app.models.persistent import User
from conexoos.app.utils.email_address import canonical_email
from conexoos.app.utils.rate_limit import count
from conexoos.app.utils.text import username_folded
from conexoos.framework import db

MAILS_PER_ACCOUNT = "3/hour"
"""The "someone tried to sign up with your address" mails one account gets at most; past it the visitor is
answered the same and nothing is queued."""


def sign_up(email: str, username: str, password: str, invite: str | None = None) -> None:
    """Create the account and queue its first mail (under ``required``: hold a pending sign-up and mail its
    link instead), or mail the owner of ``email``; answer the same.

    Raises :class:`SignupError` for the username (reserved or taken) and for a password the policy refuses.
    With ``invite`` (sign-up policy ``invite``) the new account spends that invitation in its own
    transaction; :class:`~.invites.InviteError` when another sign-up spent it first.
    """
    username = check_new_username(username)
    email = canonical_email(email)
    password_error = password_problem(password, username, email)
    if password_error:  # before the address is looked up: the same answer for a known address
        raise SignupError("password", password_error)
    password_hash = hash_password(password)  # also for a known address: the same work either way
    owner = User.get_by_login(email)
    if current_app.config["CONEXOOS_ACCOUNTS"].verification_required:
        _hold(username, email, password_hash, invite, owner)
        return
    if owner is not None:
        _tell_owner(owner)
        db.session.commit()
        return
    user = User(
        email=email,
        username=username,
        password_hash=password_hash,
        subscription_plan=site_settings.default_plan(),
    )
    db.session.add(user)
    try:
        db.session.flush()  # the id the verification link names
        if invite is not None:
            invites.spend(invite, user)
        queue_verification(user)
        db.session.commit()
    except invites.InviteError:
        db.session.rollback()
        raise
    except IntegrityError:
        # Another request took the name or the address between our checks and the insert.
        db.session.rollback()
        if User.get_by_login(username) is not None:
            raise SignupError("username", "This username is taken.") from None


def signup_problems(email: str, username: str | None, password: str | None) -> list[SignupError]:
    """Every reason :func:`sign_up` would refuse these that does not depend on another, one a field: the
    username (reserved, taken), the password (the policy's rules). A field given as None (one its form
    already refused: a username with a NUL in it never reaches the database) is not looked at. Never a
    word on ``email``, whose account this form does not reveal."""
    problems = []
    if username is not None:
        try:
            username = check_new_username(username)
        except SignupError as problem:
            problems.append(problem)
    if password is not None:
        folded = username_folded((username or "").strip())
        password_error = password_problem(password, folded, canonical_email(email))
        if password_error:
            problems.append(SignupError("password", password_error))
    return problems


def _hold(username: str, email: str, password_hash: str, invite: str | None, owner: User | None) -> None:
    """A pending sign-up for ``username`` whatever the address; the link goes to a free address, the
    notice to the owner of a known one. Commits."""
    try:
        secret = pending_signups.hold(username, email, password_hash, invite)
    except pending_signups.UsernameTaken as taken:
        raise SignupError("username", str(taken)) from None
    if owner is None:
        pending_signups.queue_link(email, username, secret)
    else:
        _tell_owner(owner)
    db.session.commit()


def _tell_owner(owner: User) -> None:
    """Queue "someone tried to sign up with your address" (a few an hour at most: no mail bombing)."""
    if count(MAILS_PER_ACCOUNT, "mail-signup-existing", str(owner.id)):
        queue_mail_to_account(owner.email, "signup_existing", user=owner)
