"""Validators shared by the HTML forms."""

from __future__ import annotations

import unicodedata
from typing import Any

from wtforms import Field
from wtforms.validators import ValidationError


class NoControlCharacters:
    """Refuse control characters (NUL among them, which PostgreSQL cannot store or even compare).

    A ``multiline`` field (a textarea) may still hold line breaks and tabs.
    """

    def __init__(self, multiline: bool = False) -> None:
        self.allowed = "\n\r\t" if multiline else ""

    def __call__(self, form: Any, field: Field) -> None:
        value = field.data
        if isinstance(value, str) and any(
            unicodedata.category(ch) == "Cc" and ch not in self.allowed for ch in value
        ):
            raise ValidationError("Remove the control characters from this field.")
