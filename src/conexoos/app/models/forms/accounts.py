"""Sign-up and log-in forms (Flask-WTF, with the hidden ``csrf_token`` field)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from .validators import NoControlCharacters

USERNAME_PATTERN = r"^[a-z0-9_.]{3,30}$"
EMAIL_PATTERN = r"^[!-?A-~]+@[^@\s]+\.[^@\s]+$"
"""An ASCII local part (printable, no space, no @): mail to any other needs SMTPUTF8, which many servers
lack. The domain may be international (it is sent in its ASCII form)."""


class SignupForm(FlaskForm):
    """``email``, ``username`` and ``password``."""

    email = EmailField(
        "Email",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired(),
            Length(max=254),
            NoControlCharacters(),
            Regexp(EMAIL_PATTERN, message="Enter a valid email address."),
        ],
    )
    username = StringField(
        "Username",
        filters=[lambda value: value.strip().lower() if isinstance(value, str) else value],
        validators=[
            DataRequired(),
            Regexp(USERNAME_PATTERN, message="3 to 30 characters: a-z, 0-9, _ and ."),
        ],
    )
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8, max=128)])


class LoginForm(FlaskForm):
    """``login`` (email or username) and ``password``."""

    login = StringField(
        "Email or username", validators=[DataRequired(), Length(max=254), NoControlCharacters()]
    )
    password = PasswordField("Password", validators=[DataRequired(), Length(max=128)])
