"""Validators shared by the HTML forms."""

from __future__ import annotations

from typing import Any

from wtforms import Field
from wtforms.validators import ValidationError

from conexoos.app.utils.email_address import InvalidEmail, normalize_email
from conexoos.app.utils.text import (
    BIDI_PROBLEM,
    STACKED_MARKS_PROBLEM,
    has_bidi_controls,
    has_control_characters,
    has_stacked_marks,
    is_visible,
    unix_line_breaks,
)


def with_unix_line_breaks(value: Any) -> Any:
    """A field filter: text with ``\n`` line breaks before it is validated, so that a length is counted
    as the textarea's ``maxlength`` counts it (a browser sends each break as two characters)."""
    return unix_line_breaks(value) if isinstance(value, str) else value


class NoControlCharacters:
    """Refuse control characters and bidirectional controls (which make a name or a text read backwards
    where it is shown: a page, Settings, a mail); a ``multiline`` field (a textarea) may hold line breaks
    and tabs."""

    def __init__(self, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, form: Any, field: Field) -> None:
        if not isinstance(field.data, str):
            return
        if has_control_characters(field.data, self.multiline):
            raise ValidationError("Remove the control characters from this field.")
        if has_bidi_controls(field.data):
            raise ValidationError(BIDI_PROBLEM)
        if has_stacked_marks(field.data):
            raise ValidationError(STACKED_MARKS_PROBLEM)


class VisibleOrEmpty:
    """Refuse text that is not empty yet shows nothing (zero-width spaces, a Hangul filler, a Braille
    blank): shown as a name, it reads as a blank heading."""

    def __call__(self, form: Any, field: Field) -> None:
        if isinstance(field.data, str) and field.data.strip() and not is_visible(field.data):
            raise ValidationError(
                "This shows nothing (only invisible characters): write something, or leave it empty."
            )


class MailableEmail:
    """Refuse an address the mailer could not send to (the same IDNA conversion it uses), with a message
    saying which part is wrong; shared by sign-up, the change of address and ``conexoos user create``."""

    def __call__(self, form: Any, field: Field) -> None:
        if isinstance(field.data, str) and not field.errors:  # one message: the pattern's comes first
            try:
                normalize_email(field.data)
            except InvalidEmail as error:
                raise ValidationError(str(error)) from error
