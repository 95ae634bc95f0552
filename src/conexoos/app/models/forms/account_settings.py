"""The forms of Settings → Account: asking for an export, and deleting the account."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import Length, Optional


class ExportForm(FlaskForm):
    """Only the CSRF token: asking for an export changes state."""


class DeleteAccountForm(FlaskForm):
    """The password (when the account has one: the view checks), and the second factor's code when
    two-factor is on."""

    password = PasswordField("Your password", validators=[Optional(), Length(max=128)])
    second_factor_code = StringField(
        "Code from your authenticator app, or a recovery code", validators=[Optional(), Length(max=64)]
    )


class UnlinkForm(FlaskForm):
    """Unlinking a sign-in: the password, when the account has one (the controller decides)."""

    password = PasswordField("Your password", validators=[Optional(), Length(max=128)])
