"""Numbers in messages for people: a count with its noun in the right number, a size in bytes."""

from __future__ import annotations

KILOBYTE = 1024
MEGABYTE = 1024 * KILOBYTE
GIGABYTE = 1024 * MEGABYTE


def counted(number: int, singular: str, plural: str = "") -> str:
    """``number`` and its noun: ``1 domain``, ``2 domains``, ``1 menu entry``, ``0 menu entries``
    (``plural`` defaults to ``singular`` and an "s")."""
    return f"{number} {singular if number == 1 else (plural or singular + 's')}"


def human_size(count: int) -> str:
    """``count`` bytes for people: ``1 GB``, ``16 MB``, ``1.5 MB``, ``0.1 MB`` or ``48 KB`` (a whole number
    without its ``.0``; a few bytes are ``1 KB``, none ``0 KB``)."""
    if count <= 0:
        return "0 KB"
    if count >= GIGABYTE:
        return _one_decimal(count, GIGABYTE, "GB")
    if count >= MEGABYTE // 10:
        return _one_decimal(count, MEGABYTE, "MB")
    return f"{max(1, count // KILOBYTE)} KB"


def _one_decimal(count: int, unit: int, name: str) -> str:
    return f"{count // unit} {name}" if count % unit == 0 else f"{count / unit:.1f} {name}"
