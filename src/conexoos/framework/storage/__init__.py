"""Media storage that every host of a project can share, chosen by ``SERVER_ENV.MEDIA.BACKEND``.

- ``local`` (default): a folder of this host, ``SERVER_ENV.MEDIA.PATH`` under the instance folder;
- ``database``: a ``media_file`` table on the default connection (:class:`MediaFileColumns`);
- ``s3``: a bucket of any S3-compatible store, configured in ``SERVICES.s3``.

A project reaches the app's storage with :func:`media_storage` and uses five calls on it:
``save(name, data)``, ``read(name)`` (or ``open``), ``exists(name)``, ``stat(name)``, ``delete(name)``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from ..config import Settings
from .base import (
    OUT_OF_SPACE_MESSAGE,
    FileMissing,
    InvalidName,
    Storage,
    StorageError,
    StorageFull,
    StoredFile,
    check_name,
    is_out_of_space,
)
from .database import MEDIA_TABLE, DatabaseStorage, MediaFileColumns, is_database_full
from .local import LocalStorage
from .s3 import S3Storage

BACKENDS = ("local", "database", "s3")
EXTENSION_KEY = "conexoos.media"

__all__ = [
    "BACKENDS",
    "MEDIA_TABLE",
    "OUT_OF_SPACE_MESSAGE",
    "DatabaseStorage",
    "FileMissing",
    "InvalidName",
    "LocalStorage",
    "MediaFileColumns",
    "S3Storage",
    "Storage",
    "StorageError",
    "StorageFull",
    "StoredFile",
    "build_storage",
    "check_name",
    "install_media",
    "is_database_full",
    "is_out_of_space",
    "media_storage",
]


def build_storage(settings: Settings, backend: str | None = None) -> Storage:
    """The storage ``backend`` (default: ``SERVER_ENV.MEDIA.BACKEND``) as ``settings`` configure it."""
    media = settings.tree["SERVER_ENV"]["MEDIA"]
    chosen = backend or media["BACKEND"]
    if chosen == "local":
        return LocalStorage(Path(media["PATH"]))
    if chosen == "database":
        return DatabaseStorage()
    if chosen == "s3":
        return S3Storage(settings.services.get("s3") or {})
    raise StorageError(f"unknown media backend {chosen!r}; choose one of {', '.join(BACKENDS)}")


def install_media(app: Flask, settings: Settings) -> None:
    """Give ``app`` its storage (no connection is opened until a file is used)."""
    app.extensions[EXTENSION_KEY] = build_storage(settings)


def media_storage(app: Flask | None = None) -> Storage:
    """The storage of ``app`` (default: the current app)."""
    storage: Storage = (app or current_app).extensions[EXTENSION_KEY]
    return storage
