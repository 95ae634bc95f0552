"""What every media storage offers, and the errors it raises.

A storage keeps files by name (``img/avatars/3f2a….webp``): ``save`` writes a whole file or nothing,
``read``/``open`` return it, ``stat``/``exists`` describe it, ``delete`` removes it, ``names`` lists them
all (for ``conexoos media migrate``). Names are relative POSIX paths of letters, digits, ``_``, ``-`` and
``.``; no part starts with a dot, so temporary files and ``..`` can never be named.
"""

from __future__ import annotations

import errno
import hashlib
import mimetypes
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from typing import BinaryIO, ClassVar

from ..errors import ConexoosError

MAX_NAME_LENGTH = 255
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*")
OUT_OF_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
OUT_OF_SPACE_MESSAGE = (
    "The server has run out of storage space; your file was not saved. "
    "Try again later or contact the site's operator."
)


class StorageError(ConexoosError):
    """The storage could not do what was asked (unreachable, refused); the cause is chained."""


class StorageFull(StorageError):
    """A write failed for lack of space (ENOSPC, EDQUOT, a full database or object store)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"out of storage space: {detail}")


class StorageUnreachable(StorageError):
    """The storage did not answer in time, or could not be connected to: the next call would likely fail
    the same way (a bulk copy stops rather than waiting out each file)."""


class FileMissing(StorageError, KeyError):
    """No file of that name is stored."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "file missing"


class InvalidName(StorageError, ValueError):
    """A name that is not a storable relative path (``..``, a leading dot or slash, odd characters)."""


@dataclass(frozen=True)
class StoredFile:
    """What is known of a stored file without reading it: its size, SHA-256 (the ETag) and type."""

    name: str
    size: int
    sha256: str
    content_type: str

    @property
    def etag(self) -> str:
        """The strong HTTP entity tag: the content's SHA-256, the same on every host and backend."""
        return self.sha256


def check_name(name: str) -> str:
    """``name`` when it is a storable relative path; InvalidName otherwise."""
    if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH or not _NAME.fullmatch(name):
        raise InvalidName(f"{name!r} is not a storable file name")
    return name


def guess_content_type(name: str) -> str:
    """The media type a file's name suggests, ``application/octet-stream`` when none."""
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def describe(name: str, data: bytes, content_type: str | None = None) -> StoredFile:
    """The :class:`StoredFile` that saving ``data`` as ``name`` makes."""
    return StoredFile(
        name, len(data), hashlib.sha256(data).hexdigest(), content_type or guess_content_type(name)
    )


def is_out_of_space(error: BaseException) -> bool:
    """Whether ``error`` (an OSError, or anything whose cause chain holds one) is ENOSPC or EDQUOT."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in OUT_OF_SPACE_ERRNOS:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class Storage(ABC):
    """Files by name, on one backend; every host configured alike sees the same files."""

    backend: ClassVar[str]

    @abstractmethod
    def save(self, name: str, data: bytes, content_type: str | None = None) -> StoredFile:
        """Store ``data`` as ``name`` whole, replacing any file of that name; StorageFull without space."""

    @abstractmethod
    def stat(self, name: str) -> StoredFile | None:
        """The stored file's size, hash and type; None when there is none."""

    @abstractmethod
    def read(self, name: str) -> bytes:
        """The stored file's bytes; FileMissing when there is none."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """Remove the file; a name that is not stored is ignored."""

    @abstractmethod
    def names(self) -> Iterator[str]:
        """Every stored name, in no promised order."""

    @abstractmethod
    def describe(self) -> str:
        """Where the files are, for an operator (no secret)."""

    def exists(self, name: str) -> bool:
        """Whether a file of that name is stored."""
        return self.stat(name) is not None

    def open(self, name: str) -> BinaryIO:
        """The stored file as a binary stream; FileMissing when there is none."""
        return BytesIO(self.read(name))
