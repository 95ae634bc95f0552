"""``local``: files in a folder of this host (the instance's ``uploads``), the embedded default.

Shared between hosts only when that folder is itself shared (NFS); otherwise use ``database`` or ``s3``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .base import (
    FileMissing,
    Storage,
    StorageError,
    StorageFull,
    StoredFile,
    check_name,
    describe,
    guess_content_type,
    is_out_of_space,
)

TEMPORARY_PREFIX = ".upload-"
"""Files being written start with a dot: never a stored name, never listed, never served."""


class LocalStorage(Storage):
    """Files below ``root``, each written to a temporary file, flushed to disk, then renamed."""

    backend = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def save(self, name: str, data: bytes, content_type: str | None = None) -> StoredFile:
        """Write ``data`` whole or not at all: a temporary file renamed over ``name`` once on disk."""
        target = self.path_of(name)
        try:
            _write_atomically(target, data)
        except OSError as error:
            if is_out_of_space(error):
                raise StorageFull(f"{self.root}: {error.strerror}") from error
            raise StorageError(f"cannot write {name!r} under {self.root}: {error}") from error
        return describe(name, data, content_type)

    def stat(self, name: str) -> StoredFile | None:
        """Size, SHA-256 and type of the file (read to hash it: files are small images)."""
        try:
            return describe(name, self.read(name), guess_content_type(name))
        except FileMissing:
            return None

    def read(self, name: str) -> bytes:
        """The file's bytes; FileMissing when it is not there."""
        target = self.path_of(name)
        try:
            return target.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise FileMissing(name) from None
        except OSError as error:
            raise StorageError(f"cannot read {name!r} under {self.root}: {error}") from error

    def delete(self, name: str) -> None:
        """Remove the file if it is there."""
        try:
            self.path_of(name).unlink(missing_ok=True)
        except OSError as error:
            raise StorageError(f"cannot delete {name!r} under {self.root}: {error}") from error

    def names(self) -> Iterator[str]:
        """Every stored file below ``root`` (temporary and hidden files left out)."""
        if not self.root.is_dir():
            return
        for folder, subfolders, files in os.walk(self.root):
            subfolders[:] = sorted(entry for entry in subfolders if not entry.startswith("."))
            for file_name in sorted(files):
                if not file_name.startswith("."):
                    yield Path(folder, file_name).relative_to(self.root).as_posix()

    def describe(self) -> str:
        """The folder."""
        return f"local folder {self.root}"

    def path_of(self, name: str) -> Path:
        """The absolute path of ``name``; InvalidName for a name that is not storable."""
        return self.root / check_name(name)


def _write_atomically(target: Path, data: bytes) -> None:
    """Write to a temporary file beside ``target``, flush it to disk, then rename it over ``target``:
    a reader (or a crash) sees the old file or the new one, never part of one. A failed write (a full
    disk says so at ``write``, ``flush``, ``fsync`` or ``close``) leaves nothing behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=TEMPORARY_PREFIX)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
