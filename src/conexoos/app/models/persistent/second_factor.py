"""Second factors of an account: an authenticator app (TOTP), its recovery codes, and passkeys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.app.utils.text import without_bidi_controls
from conexoos.framework import db

from .base import CrudMixin, transaction, utcnow
from .types import UTCDateTime


class TotpSecret(CrudMixin, db.Model):  # type: ignore[name-defined]
    """A user's authenticator-app secret (encrypted); ``confirmed_at`` is None until a code confirmed it."""

    __tablename__ = "user_totp"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(255), nullable=False)
    """The base32 secret, encrypted with a key derived from the app's secret key (see controllers/totp)."""
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The 30-second time step of the last code accepted: no code of that step or an earlier one is."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    @classmethod
    def of(cls, user_id: int) -> TotpSecret | None:
        """The user's secret, confirmed or not, or None."""
        return db.session.get(cls, user_id)

    @classmethod
    def use_step(cls, user_id: int, step: int) -> bool:
        """Record ``step`` as used unless it, or a later one, already was (one atomic UPDATE: two requests
        with the same code cannot both pass)."""
        with transaction():
            result = db.session.execute(
                update(cls)
                .where(cls.user_id == user_id, cls.confirmed_at.is_not(None))
                .where((cls.last_used_step.is_(None)) | (cls.last_used_step < step))
                .values(last_used_step=step)
            )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    @classmethod
    def remove(cls, user_id: int) -> None:
        """Delete the user's secret, if any."""
        with transaction():
            db.session.execute(delete(cls).where(cls.user_id == user_id))


class RecoveryCode(db.Model):  # type: ignore[name-defined]
    """One single-use recovery code, kept as the SHA-256 of the code (see controllers/recovery_codes)."""

    __tablename__ = "recovery_code"
    __table_args__ = (Index("ix_recovery_code_user_hash", "user_id", "code_hash", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    @classmethod
    def replace_all(cls, user_id: int, code_hashes: Sequence[str]) -> None:
        """Delete the user's codes and store these, in one transaction."""
        with transaction():
            db.session.execute(delete(cls).where(cls.user_id == user_id))
            db.session.add_all(cls(user_id=user_id, code_hash=code_hash) for code_hash in code_hashes)

    @classmethod
    def use(cls, user_id: int, code_hash: str) -> bool:
        """Mark the unused code with this hash used; False when there is none (one atomic UPDATE)."""
        with transaction():
            result = db.session.execute(
                update(cls)
                .where(cls.user_id == user_id, cls.code_hash == code_hash, cls.used_at.is_(None))
                .values(used_at=utcnow())
            )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    @classmethod
    def unused_count(cls, user_id: int) -> int:
        """How many of the user's codes are still unused."""
        query = select(func.count()).select_from(cls).where(cls.user_id == user_id, cls.used_at.is_(None))
        return int(db.session.scalar(query) or 0)

    @classmethod
    def remove_all(cls, user_id: int) -> None:
        """Delete every code of the user."""
        with transaction():
            db.session.execute(delete(cls).where(cls.user_id == user_id))


class Passkey(CrudMixin, db.Model):  # type: ignore[name-defined]
    """A WebAuthn credential of a user, named by them."""

    __tablename__ = "passkey"
    __table_args__ = (Index("ix_passkey_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    credential_digest: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    """SHA-256 of ``credential_id`` (up to 1023 bytes, too long for a unique index on MariaDB)."""
    public_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    sign_count: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    user_handle: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    """The WebAuthn user id given to the authenticator: random, the same for all of a user's passkeys."""
    transports: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    last_challenge_at: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    """Issue time (µs) of the newest challenge this passkey answered: an older one is a replay."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def shown_name(self) -> str:
        """The name as pages and mail show it: without bidirectional controls (refused since, but a name
        stored before may hold them)."""
        return without_bidi_controls(self.name)

    @classmethod
    def of_user(cls, user_id: int) -> Sequence[Passkey]:
        """The user's passkeys, oldest first."""
        return db.session.scalars(select(cls).where(cls.user_id == user_id).order_by(cls.id)).all()

    @classmethod
    def count_of_user(cls, user_id: int) -> int:
        """How many passkeys the user has."""
        query = select(func.count()).select_from(cls).where(cls.user_id == user_id)
        return int(db.session.scalar(query) or 0)

    @classmethod
    def get_owned(cls, passkey_id: int, user_id: int) -> Passkey | None:
        """The passkey if it exists and belongs to ``user_id``; None otherwise (callers answer 404)."""
        return db.session.scalar(select(cls).where(cls.id == passkey_id, cls.user_id == user_id))

    @classmethod
    def get_by_digest(cls, digest: str) -> Passkey | None:
        """The passkey whose credential id has this SHA-256, or None."""
        return db.session.scalar(select(cls).where(cls.credential_digest == digest))

    def record_use(self, sign_count: int, challenge_at: int) -> bool:
        """Store the new signature counter, unless a newer challenge was answered meanwhile (a replay, or a
        concurrent use): one atomic UPDATE, so two requests with the same assertion cannot both pass."""
        cls = type(self)
        with transaction():
            result = db.session.execute(
                update(cls)
                .where(cls.id == self.id, cls.last_challenge_at < challenge_at)
                .values(sign_count=sign_count, last_challenge_at=challenge_at, last_used_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    @classmethod
    def remove_all(cls, user_id: int) -> None:
        """Delete every passkey of the user."""
        with transaction():
            db.session.execute(delete(cls).where(cls.user_id == user_id))
