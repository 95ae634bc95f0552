"""A user's uploaded images, by the names stored on their rows (``user.avatar``, ``product.image``,
``user_link.icon``, the page's ``page_appearance.background_image``).

The one place account export and deletion reach image files, through the configured media storage
(:mod:`conexoos.framework.storage`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from conexoos.app.models.persistent import PageAppearance, Product, User, UserLink
from conexoos.framework import db
from conexoos.framework.storage import media_storage
from conexoos.framework.storage.base import FileMissing

from .appearance import BACKGROUND_FOLDER
from .blocks.product import PRODUCT_FOLDER
from .link_icons import THUMBNAIL_FOLDER
from .profiles import AVATAR_FOLDER, io_utils, page_hidden

log = logging.getLogger("conexoos.accounts")


def image_names(user: User) -> list[str]:
    """The stored names of every image the user uploaded (avatar, product images, link thumbnails, the
    page's background); defaults are left out."""
    names = [user.avatar] if user.avatar and "/" in user.avatar else []
    names += [
        product.image for product in Product.get_products_by_user_id(user.id) if product.has_custom_image
    ]
    names += [link.icon for link in UserLink.get_links_by_user_id(user.id) if link.icon]
    appearance = db.session.get(PageAppearance, user.id)
    if appearance is not None and appearance.background_image:
        names.append(appearance.background_image)
    return names


UPLOAD_OWNERS: dict[str, tuple[InstrumentedAttribute[Any], InstrumentedAttribute[int]]] = {
    AVATAR_FOLDER: (User.avatar, User.id),
    BACKGROUND_FOLDER: (PageAppearance.background_image, PageAppearance.user_id),
    PRODUCT_FOLDER: (Product.image, Product.owner_id),
    THUMBNAIL_FOLDER: (UserLink.icon, UserLink.owner_id),
}
"""The folder of each kind of upload: the column naming its files, and that row's owner."""


def hidden_page_owner(name: str) -> User | None:
    """The account whose upload ``name`` is, when its page is hidden from visitors (suspended, or not
    published until its address is verified: :func:`~.profiles.page_hidden`); None for any other file."""
    folder = name.rpartition("/")[0]
    if folder not in UPLOAD_OWNERS:
        return None
    column, owner_id = UPLOAD_OWNERS[folder]
    query = select(User).where(User.id.in_(select(owner_id).where(column == name))).limit(1)
    owner = db.session.scalars(query).first()
    return owner if owner is not None and page_hidden(owner) else None


def open_image(name: str) -> IO[bytes] | None:
    """The stored image ``name`` opened for reading (from the configured media storage: a folder, the
    database or S3), or None when it is missing."""
    try:
        return media_storage().open(name)
    except FileMissing:
        log.warning("image %s is named on a row but the media storage does not have it", name)
        return None


def delete_images(names: Iterable[str]) -> None:
    """Delete the stored images ``names`` (a missing one is skipped)."""
    files = io_utils()
    for name in names:
        files.delete(name)
