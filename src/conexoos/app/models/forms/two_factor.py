"""Forms of the second factors: a code, a confirmation (password or code), a passkey's name."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from .validators import NoControlCharacters

CONFIRM_LABEL = "Password or authentication code"


class CodeForm(FlaskForm):
    """``code``: an authenticator app's 6 digits, or a recovery code."""

    code = StringField(
        "Authentication code",
        validators=[DataRequired("Enter the code."), Length(max=64), NoControlCharacters()],
    )


class ConfirmForm(FlaskForm):
    """``confirmation``: the password, or a code of the second factor, to allow a sensitive change."""

    confirmation = PasswordField(
        CONFIRM_LABEL, validators=[DataRequired("Enter your password or a code."), Length(max=128)]
    )


class PasskeyNameForm(FlaskForm):
    """``name`` of a passkey."""

    name = StringField(
        "Name", validators=[DataRequired("Give the passkey a name."), Length(max=60), NoControlCharacters()]
    )
