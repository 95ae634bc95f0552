"""Forms of the forgotten-password flow."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from conexoos.app.controllers.password_policy import MAX_LENGTH

from .accounts import PASSWORD_RULES
from .validators import NoControlCharacters


class ForgotPasswordForm(FlaskForm):
    """``login``: the account's email or username."""

    login = StringField(
        "Email or username",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[DataRequired(), Length(max=254), NoControlCharacters()],
    )


class ResetPasswordForm(FlaskForm):
    """The new password, twice."""

    password = PasswordField(
        "New password", description=PASSWORD_RULES, validators=[DataRequired(), Length(max=MAX_LENGTH)]
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
    )
