"""Forms of the account's email settings."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length, Regexp

from .accounts import EMAIL_PATTERN
from .validators import MailableEmail, NoControlCharacters


class EmailChangeForm(FlaskForm):
    """The new address and the current password."""

    email = EmailField(
        "New email address",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired(),
            Length(max=254),
            NoControlCharacters(),
            Regexp(EMAIL_PATTERN, message="Enter a valid email address."),
            MailableEmail(),
        ],
    )
    password = PasswordField("Current password", validators=[DataRequired(), Length(max=128)])


class ConfirmForm(FlaskForm):
    """A button and its CSRF token (resend a link, confirm a change)."""
