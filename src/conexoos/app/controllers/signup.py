"""Sign-up that does not tell whether an email address has an account.

A new address gets an account and a verification link (a welcome mail when verification is off); an
address that already has an account gets a mail to its owner instead ("someone tried to sign up with your
address"). Both do the same work (one password hash, one mail queued, one commit) and the visitor is
answered the same way. A taken username is still reported: usernames are public (they are page addresses).
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from conexoos.app.controllers import invites, site_settings
from conexoos.app.controllers.accounts import SignupError, check_new_username, hash_password
from conexoos.app.controllers.email_addresses import queue_verification
from conexoos.app.controllers.mail import queue_mail_to_account
from conexoos.app.controllers.password_policy import password_problem
from conexoos.app.models.persistent import User
from conexoos.app.utils.email_address import canonical_email
from conexoos.app.utils.rate_limit import count
from conexoos.framework import db

MAILS_PER_ACCOUNT = "3/hour"
"""The "someone tried to sign up with your address" mails one account gets at most; past it the visitor is
answered the same and nothing is queued."""


def sign_up(email: str, username: str, password: str, invite: str | None = None) -> None:
    """Create the account and queue its first mail, or mail the owner of ``email``; answer the same.

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
    if owner is not None:
        if count(MAILS_PER_ACCOUNT, "mail-signup-existing", str(owner.id)):  # no mail bombing
            queue_mail_to_account(owner.email, "signup_existing", user=owner)
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
