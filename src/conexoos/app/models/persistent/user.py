"""A person with a public page."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, Integer, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.app.utils.email_address import canonical_email
from conexoos.app.utils.text import is_visible, username_folded
from conexoos.framework import db

from .base import NEVER_REUSE_IDS, CrudMixin, utcnow
from .types import UTCDateTime

FREE_PLAN = "gratis"
ADMIN, MODERATOR, USER = "admin", "moderator", "user"
ROLES = (ADMIN, MODERATOR, USER)
"""Every role an account can have, most powerful first."""


def login_form(login: str) -> str:
    """The one spelling of what a person typed to log in that accounts are looked up by: an email in the
    form addresses are stored in (a trailing dot, full-width letters or an ideographic full stop in the
    domain are the same address), else a username with its ASCII letters lowercased."""
    value = username_folded(login.strip())
    return canonical_email(value) if "@" in value else value


class User(UserMixin, CrudMixin, db.Model):  # type: ignore[name-defined]
    """An account: credentials, public profile and subscription plan."""

    __tablename__ = "user"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    username: Mapped[str] = mapped_column(String(30), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    display_name: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    bio: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    avatar: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    role: Mapped[str] = mapped_column(
        String(16), nullable=False, default=USER, server_default=USER, index=True
    )
    """``admin``, ``moderator`` or ``user`` (see :mod:`conexoos.app.controllers.roles`)."""
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When staff suspended the account (its page and links answer 404); None: not suspended."""
    suspension_reason: Mapped[str] = mapped_column(String(300), nullable=False, default="", server_default="")
    subscription_plan: Mapped[str] = mapped_column(String(40), nullable=False, default=FREE_PLAN)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True, nullable=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    subscription_status: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    past_due_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    plan_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the subscription, cancelled at the end of the period paid for, stops (Stripe's ``cancel_at`` or
    the period's end): the paid plan is kept until then and does not renew. None: it renews, or none."""
    period_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """The end of the subscription's current period, paid for (it renews then unless it is cancelled);
    None: no subscription, or none seen since revision 0034."""
    billing_event_at: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), nullable=False, default=0
    )
    """``created`` of the newest Stripe event applied; older events never overwrite newer state. 64 bits
    (SQLite's INTEGER is): Stripe's timestamps pass 2**31 in 2038."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the account last logged in (any way: password, second factor, passkey); None: never since 0.3."""
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the owner followed a verification link sent to ``email``; None: not verified."""
    email_undone_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """The earliest change of address undone ("this wasn't me") by the undos of the last week: with
    ``email_undone_at``, the changes whose undo links are spent; None: no undo yet."""
    email_undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When the account's address was last given back by an undo link."""
    email_change_nonce: Mapped[str | None] = mapped_column(String(32), nullable=True)
    """A random value naming the newest change of address asked for (its link holds a fingerprint of
    it); None: no change pending. A newer request, a confirmation or ending the other sessions replaces or
    clears it, so older links stop working."""

    @property
    def email_verified(self) -> bool:
        """Whether the current email address was verified."""
        return self.email_verified_at is not None

    @property
    def is_admin(self) -> bool:
        """Whether the account has the ``admin`` role (read-only: change :attr:`role`)."""
        return self.role == ADMIN

    @property
    def is_staff(self) -> bool:
        """Whether the account is an admin or a moderator."""
        return self.role in (ADMIN, MODERATOR)

    @property
    def is_suspended(self) -> bool:
        """Whether staff suspended the account."""
        return self.suspended_at is not None

    @property
    def public_name(self) -> str:
        """The display name, or the username when none is set."""
        return public_name(self.display_name, self.username)

    @classmethod
    def get_by_id(cls, user_id: int) -> User | None:
        """The user with this id, or None."""
        return db.session.get(cls, user_id)

    @classmethod
    def get_by_username(cls, username: str) -> User | None:
        """The user with this username (case-insensitive), or None."""
        return db.session.scalar(select(cls).where(cls.username == username_folded(username)))

    @classmethod
    def get_by_stripe_customer(cls, customer_id: str) -> User | None:
        """The user linked to a Stripe customer id, or None."""
        return db.session.scalar(select(cls).where(cls.stripe_customer_id == customer_id))

    @classmethod
    def get_by_login(cls, login: str) -> User | None:
        """The user whose email or username is ``login`` (case-insensitive), or None."""
        value = login_form(login)
        column = cls.email if "@" in value else cls.username
        return db.session.scalar(select(cls).where(func.lower(column) == value))


def public_name(display_name: str, username: str) -> str:
    """The name a page shows for its owner: the display name, or the username when none is set."""
    return display_name if is_visible(display_name) else username  # a name stored blank-looking too
