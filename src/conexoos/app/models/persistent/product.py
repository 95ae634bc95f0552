"""A product sold from a public page (bought through its external ``buy_url``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

from .base import NEVER_REUSE_IDS, CrudMixin, utcnow
from .types import UTCDateTime

DEFAULT_PRODUCT_IMAGE = "default_product.jpg"


class Product(CrudMixin, db.Model):  # type: ignore[name-defined]
    """Title, description, a price in minor units of an ISO currency, an image and a buy link."""

    __tablename__ = "product"
    __table_args__ = (Index("ix_product_owner_order", "owner_id", "order_index"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    title: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str] = mapped_column(String(1000), nullable=False, default="")
    price: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    image: Mapped[str] = mapped_column(String(255), nullable=False, default=DEFAULT_PRODUCT_IMAGE, index=True)
    buy_url: Mapped[str] = mapped_column(String(500), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    blocked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    """The buy link's domain is on the blocklist: hidden from the page, ``/go/product`` answers 410."""
    hidden_by_staff: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    """True once a moderator hid the product after a report (or its buy link's address, on the account):
    it stays disabled, its owner cannot show it."""
    order_index: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow
    )

    @property
    def has_custom_image(self) -> bool:
        """Whether an uploaded image (not the default one) is set."""
        return is_custom_image(self.image)

    def to_json(self, image_url: str) -> dict[str, Any]:
        """The API shape; ``image_url`` is the absolute or root-relative URL of the image."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "price": self.price,
            "currency": self.currency,
            "image_url": image_url,
            "buy_url": self.buy_url,
            "enabled": self.enabled,
            "hidden_by_staff": self.hidden_by_staff,
            "order_index": self.order_index,
        }

    @classmethod
    def get_products_by_user_id(cls, user_id: int) -> Sequence[Product]:
        """All of a user's products in page order."""
        query = select(cls).where(cls.owner_id == user_id).order_by(cls.order_index, cls.id)
        return db.session.scalars(query).all()

    @classmethod
    def get_owned(cls, product_id: int, owner_id: int) -> Product | None:
        """The product if it belongs to ``owner_id``; None otherwise (callers answer 404)."""
        return db.session.scalar(select(cls).where(cls.id == product_id, cls.owner_id == owner_id))

    @classmethod
    def next_order_index(cls, owner_id: int) -> int:
        """One past the owner's highest ``order_index``."""
        highest = db.session.scalar(select(func.max(cls.order_index)).where(cls.owner_id == owner_id))
        return 0 if highest is None else highest + 1


def is_custom_image(image: str) -> bool:
    """Whether a product's ``image`` names an upload (in a folder), not the default image."""
    return "/" in image
