"""A user's uploaded images, by the names stored on their rows (``user.avatar``, ``product.image``).

The one place account export and deletion reach image files: re-point :func:`open_image` and
:func:`delete_images` at another storage and both follow.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import IO

from conexoos.app.models.persistent import Product, User

from .profiles import io_utils

log = logging.getLogger("conexoos.accounts")


def image_names(user: User) -> list[str]:
    """The stored names of every image the user uploaded (avatar, product images); defaults are left out."""
    names = [user.avatar] if user.avatar and "/" in user.avatar else []
    names += [
        product.image for product in Product.get_products_by_user_id(user.id) if product.has_custom_image
    ]
    return names


def open_image(name: str) -> IO[bytes] | None:
    """The stored image ``name`` opened for reading, or None when its file is missing."""
    try:
        return io_utils().path_of(name).open("rb")
    except FileNotFoundError:
        log.warning("image %s is named on a row but its file is missing", name)
        return None


def delete_images(names: Iterable[str]) -> None:
    """Delete the stored images ``names`` (a missing one is skipped)."""
    files = io_utils()
    for name in names:
        files.delete(name)
