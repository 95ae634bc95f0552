"""The forms of Settings → Account: asking for an export, and deleting the account."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional


class ExportForm(FlaskForm):
    """Only the CSRF token: asking for an export changes state."""


class DeleteAccountForm(FlaskForm):
    """The password, and the second factor's code when two-factor is on."""

    password = PasswordField("Your password", validators=[DataRequired(), Length(max=128)])
    second_factor_code = StringField(
        "Code from your authenticator app, or a recovery code", validators=[Optional(), Length(max=64)]
    )
