"""Uploaded media kept in the database, when ``SERVER_ENV.MEDIA.BACKEND`` is ``database``.

The framework's database storage reads and writes this table; its columns are the framework's
(:class:`conexoos.framework.storage.MediaFileColumns`). A file is named by random hex, never by its
owner: the rows that use it (``user.avatar``, ``product.image``) name it, and deleting them deletes it.
"""

from __future__ import annotations

from conexoos.framework import db
from conexoos.framework.storage import MediaFileColumns


class MediaFile(MediaFileColumns, db.Model):  # type: ignore[name-defined]
    """One stored file: its name, media type, bytes, size, SHA-256 and when it was stored."""
