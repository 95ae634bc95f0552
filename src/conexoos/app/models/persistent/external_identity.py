"""A sign-in at an identity provider (LDAP, OpenID Connect, SAML) linked to one account."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, false, func, select
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

from .base import CrudMixin, utcnow
from .types import UTCDateTime


class ExternalIdentity(CrudMixin, db.Model):  # type: ignore[name-defined]
    """The provider's stable id of a person (``backend``, ``provider``, ``subject``) and whose account it
    logs into; deleted with the account."""

    __tablename__ = "external_identity"
    __table_args__ = (
        UniqueConstraint("backend", "provider", "subject", name="uq_external_identity_subject"),
        Index("ix_external_identity_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    backend: Mapped[str] = mapped_column(String(16), nullable=False)
    """``ldap``, ``oidc`` or ``saml``."""
    provider: Mapped[str] = mapped_column(String(64), nullable=False)
    """The provider's name in ``LOGINS`` (``ldap``, an OIDC provider's key, ``saml``)."""
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    """The provider's stable id of the person (entryUUID, ``sub``, persistent NameID)."""
    email: Mapped[str] = mapped_column(String(254), nullable=False, default="")
    """The address the provider gave at the last login (may differ from the account's); empty: none."""
    email_vouched: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    """Whether the provider vouched for (verified) its address when the identity was linked: one that did
    not may belong to someone else than the mailbox's owner, so a password set through a mailed reset
    link unlinks it (see :mod:`~conexoos.app.controllers.password_reset`)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @classmethod
    def find(cls, backend: str, provider: str, subject: str) -> ExternalIdentity | None:
        """The identity with this key, or None."""
        query = select(cls).where(cls.backend == backend, cls.provider == provider, cls.subject == subject)
        return db.session.scalar(query)

    @classmethod
    def of_user(cls, user_id: int) -> Sequence[ExternalIdentity]:
        """The user's identities, oldest first."""
        return db.session.scalars(select(cls).where(cls.user_id == user_id).order_by(cls.id)).all()

    @classmethod
    def count_of_user(cls, user_id: int) -> int:
        """How many identities the user has."""
        query = select(func.count()).select_from(cls).where(cls.user_id == user_id)
        return int(db.session.scalar(query) or 0)

    @classmethod
    def unvouched_of_user(cls, user_id: int) -> Sequence[ExternalIdentity]:
        """The user's identities whose provider did not vouch for the address when they were linked."""
        query = select(cls).where(cls.user_id == user_id, cls.email_vouched.is_(False)).order_by(cls.id)
        return db.session.scalars(query).all()

    @classmethod
    def get_owned(cls, identity_id: int, user_id: int) -> ExternalIdentity | None:
        """The identity if it exists and belongs to ``user_id``; None otherwise (callers answer 404)."""
        return db.session.scalar(select(cls).where(cls.id == identity_id, cls.user_id == user_id))
