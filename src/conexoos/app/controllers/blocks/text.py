"""The text kind: a short paragraph of plain text; its line breaks are kept, nothing else is markup."""

from __future__ import annotations

from conexoos.app.dto.fields import text

from .simple import SimpleKind

TEXT_MAX = 1000

TEXT = SimpleKind(
    "text",
    "text block",
    "text blocks",
    (
        text(
            "text",
            TEXT_MAX,
            required=True,
            multiline=True,
            description="Plain text; line breaks are kept, HTML is shown as typed",
        ),
    ),
    limit=50,
    summary="A short paragraph.",
)
