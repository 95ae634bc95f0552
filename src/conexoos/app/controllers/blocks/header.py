"""The header kind: a section title on the page (an ``<h2>``)."""

from __future__ import annotations

from conexoos.app.dto.fields import text

from .simple import SimpleKind

HEADER_MAX = 100

HEADER = SimpleKind(
    "header",
    "header",
    "headers",
    (text("title", HEADER_MAX, required=True, description="The section's title; trimmed"),),
    limit=50,
    summary="A section title.",
)
