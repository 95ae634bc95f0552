"""The divider kind: a line between two parts of the page; it has no field."""

from __future__ import annotations

from .simple import SimpleKind

DIVIDER = SimpleKind("divider", "divider", "dividers", (), limit=50, summary="A dividing line.")
