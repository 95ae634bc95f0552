"""Rules for text people type."""

from __future__ import annotations

import unicodedata

LINE_CONTROLS = "\n\r\t"


def has_control_characters(value: str, multiline: bool = False) -> bool:
    """Whether ``value`` holds a control character (NUL, ESC, DEL...); line breaks and tabs only count
    when the text is not ``multiline``. PostgreSQL can neither store nor compare a NUL."""
    allowed = LINE_CONTROLS if multiline else ""
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value)


def is_visible(value: str) -> bool:
    """Whether ``value`` shows anything: spaces, zero-width and format characters (``Cf``) alone do not."""
    return any(not ch.isspace() and unicodedata.category(ch) != "Cf" for ch in value)
