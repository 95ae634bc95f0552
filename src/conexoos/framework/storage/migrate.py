"""Copy every stored file from one storage to another, verified, for ``conexoos media migrate``.

Idempotent and resumable: a file the target already holds with the same size and SHA-256 is left alone,
so a run stopped halfway (or repeated) copies only what is missing. Nothing is deleted from the source.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from .base import Storage, StorageError, StoredFile


@dataclass
class MigrationReport:
    """What a copy did: files copied, files the target already had, files that failed (with why)."""

    copied: int = 0
    present: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Files seen in the source."""
        return self.copied + self.present + len(self.failed)


def copy_all(
    source: Storage, target: Storage, progress: Callable[[str, str], None] | None = None
) -> MigrationReport:
    """Copy each file of ``source`` missing (or different) in ``target``, then check the target's copy.

    ``progress(name, outcome)`` is told of each file (``copied``, ``present`` or ``failed: why``)."""
    report = MigrationReport()
    for name in source.names():
        try:
            outcome = _copy_one(source, target, name)
        except StorageError as error:
            outcome = f"failed: {error}"
            report.failed.append((name, str(error)))
        else:
            if outcome == "copied":
                report.copied += 1
            else:
                report.present += 1
        if progress is not None:
            progress(name, outcome)
    return report


def _copy_one(source: Storage, target: Storage, name: str) -> str:
    data = source.read(name)
    wanted = StoredFile(name, len(data), hashlib.sha256(data).hexdigest(), "")
    if _same(target.stat(name), wanted):
        return "present"
    original = source.stat(name)
    target.save(name, data, original.content_type if original else None)
    if not _same(target.stat(name), wanted):
        raise StorageError(f"the copy of {name!r} in {target.describe()} does not match the original")
    return "copied"


def _same(found: StoredFile | None, wanted: StoredFile) -> bool:
    return found is not None and found.size == wanted.size and found.sha256 == wanted.sha256
