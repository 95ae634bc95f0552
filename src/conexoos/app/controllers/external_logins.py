"""What a completed sign-in at an identity provider (LDAP, OpenID Connect, SAML) means here.

:func:`resolve` finds the account an :class:`ExternalIdentity` logs into:

- a linked identity → its account;
- else, when an account has the address the provider gave: linked at once only when the provider vouches
  for the address, the account verified it too, and the operator turned ``APP.ACCOUNTS.SSO_LINK_BY_EMAIL``
  on (once the account's second factor is given, when it has one, whatever ``SSO_SECOND_FACTOR`` says);
  otherwise the person must log in to that account once (:mod:`.pending_link`);
- else a new account (just in time) with a free username derived from the claims and the provider's
  address (verified when the provider vouches for it), and no password.

The role mapping is applied each time. Nothing is committed here: the login that follows commits the
account, the identity and the login together, or nothing (:func:`create_account` flushes to learn the
new account's id, and rolls back when that fails).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from flask import current_app, session
from sqlalchemy.exc import IntegrityError

from conexoos.app.controllers import invites, pending_link, site_settings
from conexoos.app.controllers.accounts import disable_password
from conexoos.app.controllers.email_addresses import queue_verification
from conexoos.app.controllers.provider_labels import provider_label
from conexoos.app.controllers.role_mapping import apply_role_mapping
from conexoos.app.controllers.second_factor import has_second_factor
from conexoos.app.controllers.sso_usernames import free_username
from conexoos.app.models.persistent import ExternalIdentity as IdentityRow
from conexoos.app.models.persistent import User
from conexoos.app.models.persistent.base import utcnow
from conexoos.app.utils.email_address import InvalidEmail, normalize_email
from conexoos.app.utils.text import (
    has_control_characters,
    is_valid_unicode,
    is_visible,
    without_bidi_controls,
)
from conexoos.framework import db
from conexoos.framework.logins import ExternalIdentity, logins

MAX_EMAIL = 254
MAX_SUBJECT = 255
MAX_DISPLAY_NAME = 60
INVITE = "signup_invite"
"""Session key: the invitation secret of the sign-up page this browser opened (policy ``invite``)."""


class ExternalLoginRefused(Exception):
    """A sign-in that logs into no account; ``message`` tells the person why, ``status`` is the HTTP one."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Resolved:
    """The account a sign-in logs into; ``created`` when it was made now, ``linked`` when the identity was
    linked to an existing account now."""

    user: User
    created: bool = False
    linked: bool = False
    second_factor_first: bool = False
    """The identity waits (see :mod:`.pending_link`) for the account's second factor, whatever
    ``SSO_SECOND_FACTOR`` says: the first link by address alone must not skip it."""


@dataclass(frozen=True)
class LinkAsked:
    """The sign-in waits for a login to the existing account with its address (see :mod:`.pending_link`)."""

    label: str
    email: str


def resolve(identity: ExternalIdentity) -> Resolved | LinkAsked:
    """The account ``identity`` logs into (made or linked as the rules say), or a link to ask for.

    Raises :class:`ExternalLoginRefused` when no account can be used or made."""
    _check_subject(identity)
    row = IdentityRow.find(identity.backend, identity.provider, identity.subject)
    email = provider_email(identity)
    if row is not None:
        user = _existing(row, email)
        apply_role_mapping(user, identity)
        return Resolved(user)
    owner = User.get_by_login(email) if email else None
    if owner is None:
        user = create_account(identity, email)
        return Resolved(user, created=True)
    if _may_link_by_email(owner, identity):
        if has_second_factor(owner):  # linked once the second factor is given (see pending_link)
            pending_link.begin(owner, identity, email, provider_label(identity.backend, identity.provider))
            return Resolved(owner, second_factor_first=True)
        _link(owner, identity, email)
        apply_role_mapping(owner, identity)
        return Resolved(owner, linked=True)
    return _ask_for_link(owner, identity, email)


def provider_email(identity: ExternalIdentity) -> str:
    """The provider's address in its stored form, or "" when it gave none the product can use."""
    text = (identity.email or "").strip()
    if not text or len(text) > MAX_EMAIL or has_control_characters(text) or not is_valid_unicode(text):
        return ""
    try:
        return normalize_email(text)
    except InvalidEmail:
        return ""


def create_account(identity: ExternalIdentity, email: str) -> User:
    """A new account for ``identity`` and the identity linked to it (flushed, not committed); its
    password is unusable until its owner sets one through "Forgot your password?"."""
    if not email:
        raise ExternalLoginRefused(
            f"Your {provider_label(identity.backend, identity.provider)} sign-in gave no usable email "
            "address, and an account here needs one. Ask the site's operator to have the provider send "
            "your address.",
            status=422,
        )
    invite = _refuse_when_signup_is_not_open(identity)
    user = User(
        email=email,
        username=free_username(identity),
        password_hash="",
        subscription_plan=site_settings.default_plan(),
    )
    user.display_name = display_name(identity.name)
    disable_password(user)
    user.email_verified_at = utcnow() if identity.email_verified else None
    db.session.add(user)
    try:
        db.session.flush()  # the id the identity and the audit entry name
        if invite is not None:
            invites.spend(invite, user)
            session.pop(INVITE, None)
        apply_role_mapping(user, identity)
        _link(user, identity, email)
        db.session.flush()
        if not user.email_verified:
            label = provider_label(identity.backend, identity.provider)
            queue_verification(user, made_at=label)  # not vouched for: the usual link (or a welcome)
    except invites.InviteError as error:  # another sign-up spent it first
        db.session.rollback()
        raise ExternalLoginRefused(str(error), status=410) from None
    except IntegrityError:
        db.session.rollback()  # neither the account nor the identity stays
        raise ExternalLoginRefused(
            "Someone else signed up with this name or address at the same moment. Try again.", status=409
        ) from None
    return user


def display_name(name: str | None) -> str:
    """The provider's name of the person as a display name: control characters, bidirectional controls and
    lone surrogates dropped, runs of spaces made one, trimmed to the column's length; "" when nothing
    visible is left."""
    kept = without_bidi_controls(
        "".join(ch for ch in (name or "") if unicodedata.category(ch) not in ("Cc", "Cs"))
    )
    text = " ".join(kept.split())[:MAX_DISPLAY_NAME].strip()
    return text if is_visible(text) else ""


def keep_invite(secret: str) -> None:
    """Keep the invitation the sign-up page was opened with, for a first sign-in at a provider in this
    browser that follows (it makes the account and spends the invitation)."""
    session[INVITE] = secret


def _kept_invite() -> str | None:
    secret = session.get(INVITE)
    if not isinstance(secret, str):
        return None
    try:
        invites.usable(secret)
    except invites.InviteError:
        session.pop(INVITE, None)
        return None
    return secret


def _refuse_when_signup_is_not_open(identity: ExternalIdentity) -> str | None:
    """The site's sign-up policy governs every way of making an account: under ``closed`` a first sign-in
    through a provider makes none, under ``invite`` only in a browser that opened a valid invitation link
    (returned: the account spends it). An operator who wants the provider to decide sets the policy to
    ``open``, and may turn the local form off with ``LOGINS.local.ENABLED: false``."""
    policy = site_settings.signup_policy()
    if policy == site_settings.OPEN:
        return None
    if policy == site_settings.INVITE and (invite := _kept_invite()) is not None:
        return invite
    raise ExternalLoginRefused(
        f"Your {provider_label(identity.backend, identity.provider)} sign-in worked, but this site makes "
        "no new accounts that way: sign-up is "
        + ("closed" if policy == site_settings.CLOSED else "by invitation only")
        + ". Ask the site's administrators for an account.",
        status=403,
    )


def _may_link_by_email(owner: User, identity: ExternalIdentity) -> bool:
    """Whether ``identity`` may be linked to ``owner`` on the strength of the address alone: the operator
    allows it, the provider vouches for the address, and so does the account (an unverified address may
    have been typed by someone else, who would keep the account's password: its owner logs in first)."""
    allowed = bool(current_app.config["CONEXOOS_ACCOUNTS"].sso_link_by_email)
    return allowed and identity.email_verified and owner.email_verified


def _existing(row: IdentityRow, email: str) -> User:
    user = User.get_by_id(row.user_id)
    if user is None:  # the account went between the two reads: as if it never existed
        raise ExternalLoginRefused("This account was just deleted. Sign in again to make a new one.", 409)
    row.email = email
    row.last_login_at = utcnow()
    return user


def _link(user: User, identity: ExternalIdentity, email: str) -> None:
    db.session.add(
        IdentityRow(
            user_id=user.id,
            backend=identity.backend,
            provider=identity.provider,
            subject=identity.subject,
            email=email,
            email_vouched=bool(email) and identity.email_verified,
            last_login_at=utcnow(),
        )
    )


def _ask_for_link(owner: User, identity: ExternalIdentity, email: str) -> LinkAsked:
    label = provider_label(identity.backend, identity.provider)
    if not logins().local_enabled:  # no password here to prove the account is theirs
        raise ExternalLoginRefused(
            f"An account here already uses the address your {label} sign-in gave, and it cannot be "
            "linked to it automatically. Ask the site's operator to link them.",
            status=409,
        )
    pending_link.begin(owner, identity, email, label)
    return LinkAsked(label, email)


def _check_subject(identity: ExternalIdentity) -> None:
    subject = identity.subject
    # A lone surrogate (JSON "\ud800") or a NUL cannot be stored by every database.
    usable = is_valid_unicode(subject) and not has_control_characters(subject)
    if not subject or len(subject) > MAX_SUBJECT or not usable:
        raise ExternalLoginRefused(
            "Your provider sent no usable id for you (empty, longer than 255 characters, or holding "
            "characters that cannot be stored). Ask the site's operator.",
            status=422,
        )
