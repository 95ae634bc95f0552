"""Sign-up and log-in forms (Flask-WTF, with the hidden ``csrf_token`` field)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from conexoos.app.controllers.password_policy import MAX_LENGTH, MIN_LENGTH
from conexoos.app.utils.text import username_folded

from .validators import MailableEmail, NoControlCharacters

USERNAME_PATTERN = r"^[a-z0-9_.]{3,30}$"
EMAIL_PATTERN = r"^[!-?A-~]+@[^@\s]+[.\u3002\uff0e\uff61][^@\s]+$"
"""A shape only (``normalize_email`` decides): a dot in the domain may be one IDNA reads as a dot (``。``),
as log-in accepts it."""
"""An ASCII local part (printable, no space, no @): mail to any other needs SMTPUTF8, which many servers
lack. The domain may be international (it is sent in its ASCII form)."""
PASSWORD_RULES = (
    f"At least {MIN_LENGTH} characters; not a common password, and not built from your username or email."
)


def email_field(label: str) -> EmailField:
    """An address a person types: trimmed, at most 254 characters, one the mailer can send to."""
    return EmailField(
        label,
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired(),
            Length(max=254),
            NoControlCharacters(),
            Regexp(EMAIL_PATTERN, message="Enter a valid email address."),
            MailableEmail(),
        ],
    )


def username_field(label: str) -> StringField:
    """A new username: trimmed and lower-cased, 3 to 30 of a-z, 0-9, _ and ."""
    return StringField(
        label,
        filters=[lambda value: username_folded(value.strip()) if isinstance(value, str) else value],
        validators=[
            DataRequired(),
            Regexp(USERNAME_PATTERN, message="3 to 30 characters: a-z, 0-9, _ and ."),
        ],
    )


def new_password_field() -> PasswordField:
    """A new password, with the rules shown beside it (the policy itself is checked by the controller)."""
    return PasswordField(
        "Password", description=PASSWORD_RULES, validators=[DataRequired(), Length(max=MAX_LENGTH)]
    )


class SignupForm(FlaskForm):
    """``email``, ``username`` and ``password``."""

    email = email_field("Email")
    username = username_field("Username")
    password = new_password_field()


class LoginForm(FlaskForm):
    """``login`` (email or username) and ``password``."""

    login = StringField(
        "Email or username", validators=[DataRequired(), Length(max=254), NoControlCharacters()]
    )
    password = PasswordField("Password", validators=[DataRequired(), Length(max=128)])


class ChangePasswordForm(FlaskForm):
    """``current_password``, ``new_password`` and its ``confirm``ation; the policy is checked by the
    controller (it knows the username and email the password must not be built from)."""

    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=128)])
    new_password = PasswordField(
        "New password", description=PASSWORD_RULES, validators=[DataRequired(), Length(max=MAX_LENGTH)]
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", message="The two new passwords differ.")],
    )
