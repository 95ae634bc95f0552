"""An item of the site's media library: an image (stored as WebP renditions) or a PDF (stored as uploaded).

The files live in the app's media storage (``SERVER_ENV.MEDIA``); the row names them in ``files``, JSON
text holding one entry per stored file (``name``, ``bytes``, and for an image rendition ``width`` and
``height``). ``bytes_total`` is their sum: what the item counts against the site's storage limit. Ids are
never reused, so a PDF's address ``/media/library/<id>/...`` can never reach another file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from conexoos.framework import db

from .base import NEVER_REUSE_IDS, utcnow
from .types import UTCDateTime

IMAGE, PDF = "image", "pdf"
MEDIA_KINDS = (IMAGE, PDF)
TITLE_MAX, ALT_MAX, NAME_MAX, KEY_MAX = 200, 300, 200, 64


@dataclass(frozen=True)
class StoredRendition:
    """One stored file of an item: its name in the media storage, its size, and an image's pixels."""

    name: str
    bytes: int
    width: int = 0
    height: int = 0


class MediaItem(db.Model):  # type: ignore[name-defined]
    """One image or PDF of the media library."""

    __tablename__ = "media_item"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(KEY_MAX), unique=True, nullable=False)
    """The random part every stored name of the item shares (``library/<key>-480.webp``)."""
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False, default="")
    alt_text: Mapped[str] = mapped_column(String(ALT_MAX), nullable=False, default="")
    original_name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False)
    files: Mapped[str] = mapped_column(Text, nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    bytes_total: Mapped[int] = mapped_column(BigInteger, nullable=False)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    @property
    def renditions(self) -> list[StoredRendition]:
        """The stored files, smallest first (a PDF has one)."""
        return [StoredRendition(**entry) for entry in json.loads(self.files)]

    @renditions.setter
    def renditions(self, stored: list[StoredRendition]) -> None:
        self.files = json.dumps([asdict(rendition) for rendition in stored], separators=(",", ":"))

    @property
    def is_image(self) -> bool:
        """Whether the item is an image (else a PDF)."""
        return self.kind == IMAGE
