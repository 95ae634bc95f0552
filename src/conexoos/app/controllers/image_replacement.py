"""Replacing the image a user's row names (a product's image, a link's thumbnail): one way for every kind.

The upload is decoded and re-encoded by IOUtils before the owner's lock is taken; the row is changed under
the lock; the new file is deleted when that fails, and the old one once the row no longer names it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from conexoos.app.dto.errors import InputError
from conexoos.app.models.persistent import User
from conexoos.app.utils.io import IOUtils, Upload
from conexoos.framework.storage import media_storage

from .owner_lock import locked_owner

Row = TypeVar("Row")


def replace_image(
    user: User,
    owned: Callable[[User], Row],
    column: str,
    upload: Upload | None,
    *,
    field: str,
    folder: str,
    default: str = "",
) -> Row:
    """Store ``upload`` under ``folder`` and name it in ``column`` of the row ``owned(user)`` gives (which
    raises 404 for another user's row: checked before the upload is decoded); a 422 naming the multipart
    ``field`` when no file was sent, ``InvalidImage`` for a file that is no image, and nothing changes."""
    owned(user)
    if upload is None or not upload.filename:
        raise InputError(f"send the image in the multipart field '{field}'", field=field, code="required")
    files = IOUtils(media_storage())
    stored = files.save_image(upload, folder, default=default)
    try:
        with locked_owner(user) as owner:
            row = owned(owner)
            old: str | None = getattr(row, column)
            setattr(row, column, stored)
    except BaseException:
        files.delete(stored)  # the row does not name it: no file is left behind
        raise
    files.delete(old)
    return row
