"""The first-run setup form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

from conexoos.app.controllers.password_policy import MAX_LENGTH

from .accounts import PASSWORD_RULES, USERNAME_PATTERN, email_field
from .validators import NoControlCharacters

POLICY_CHOICES = [
    SelectChoice("open", "Open: anyone may sign up"),
    SelectChoice("invite", "By invitation: administrators send single-use links"),
    SelectChoice("closed", "Closed: no public sign-up; only people an administrator invites may join"),
]


class SetupForm(FlaskForm):
    """Site name, the first administrator (email, username, password) and the sign-up policy."""

    token = HiddenField()
    site_name = StringField("Site name", validators=[DataRequired(), Length(max=60), NoControlCharacters()])
    email = email_field("Administrator's email")
    username = StringField(
        "Administrator's username",
        filters=[lambda value: value.strip().lower() if isinstance(value, str) else value],
        validators=[
            DataRequired(),
            Regexp(USERNAME_PATTERN, message="3 to 30 characters: a-z, 0-9, _ and ."),
        ],
    )
    password = PasswordField(
        "Password", description=PASSWORD_RULES, validators=[DataRequired(), Length(max=MAX_LENGTH)]
    )
    signup_policy = RadioField("Who may sign up", choices=POLICY_CHOICES, default="open")
