"""Forms of the account's email settings."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from .accounts import email_field


class EmailChangeForm(FlaskForm):
    """The new address and the current password."""

    email = email_field("New email address")
    password = PasswordField("Current password", validators=[DataRequired(), Length(max=128)])


class ConfirmForm(FlaskForm):
    """A button and its CSRF token (resend a link, confirm a change)."""
