"""An address a moderator hid on an account's page, kept for the account rather than for the link, icon,
embed or product that held it: deleting the item and adding the address again does not show it again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

from .base import utcnow
from .types import UTCDateTime

LINK, SOCIAL, EMBED, PRODUCT = "link", "social", "embed", "product"
"""The kinds (``HiddenAddress.kind``): what held the address when it was hidden, which decides how loosely
another spelling of it matches (``controllers/hidden_addresses.py``)."""
ADDRESS_MAX = 500
"""As long as the longest address a link, an icon or an embed holds (``dto.links.URL_MAX``)."""


class HiddenAddress(db.Model):  # type: ignore[name-defined]
    """One address hidden on ``user_id``'s page, as it was spelled when hidden."""

    __tablename__ = "hidden_address"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    address: Mapped[str] = mapped_column(String(ADDRESS_MAX), nullable=False)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id", ondelete="SET NULL"), nullable=True)
    hidden_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    @classmethod
    def of_user(cls, user_id: int) -> Sequence[tuple[str, str]]:
        """The ``(kind, address)`` pairs hidden on the user's page."""
        query = select(cls.kind, cls.address).where(cls.user_id == user_id)
        return [(kind, address) for kind, address in db.session.execute(query).all()]
