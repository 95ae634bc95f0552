"""Copy every stored file from one storage to another, verified, for ``conexoos media migrate``.

Idempotent and resumable: a file the target already holds with the same size and SHA-256 is left alone,
so a run stopped halfway (or repeated) copies only what is missing. Nothing is deleted from the source.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from .base import Storage, StorageError, StorageUnreachable, StoredFile


@dataclass
class MigrationReport:
    """What a copy did: files copied, files the target already had, files that failed (with why)."""

    copied: int = 0
    present: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    stopped: str = ""
    """Why the copy stopped before the end (a storage that does not answer), or empty."""

    @property
    def total(self) -> int:
        """Files seen in the source."""
        return self.copied + self.present + len(self.failed)


def copy_all(
    source: Storage, target: Storage, progress: Callable[[str, str], None] | None = None
) -> MigrationReport:
    """Copy each file of ``source`` missing (or different) in ``target``, then check the target's copy.

    ``progress(name, outcome)`` is told of each file (``copied``, ``present`` or ``failed: why``). A file
    that fails is reported and the copy goes on; a storage that does not answer (a timeout, no connection)
    stops it, with ``report.stopped`` saying why: every further file would wait out the same timeouts. The
    copy is resumable, so running it again once the storage answers copies what is left."""
    report = MigrationReport()
    try:
        for name in source.names():
            outcome = _copy_reported(source, target, name, report)
            if progress is not None:
                progress(name, outcome)
            if report.stopped:
                break
    except StorageUnreachable as error:  # listing the source
        report.stopped = str(error)
    return report


def _copy_reported(source: Storage, target: Storage, name: str, report: MigrationReport) -> str:
    try:
        outcome = _copy_one(source, target, name)
    except StorageError as error:
        report.failed.append((name, str(error)))
        if isinstance(error, StorageUnreachable):
            report.stopped = str(error)
        return f"failed: {error}"
    if outcome == "copied":
        report.copied += 1
    else:
        report.present += 1
    return outcome


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
