"""The first-run setup form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from .accounts import email_field, new_password_field, username_field
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
    username = username_field("Administrator's username")
    password = new_password_field()
    signup_policy = RadioField("Who may sign up", choices=POLICY_CHOICES, default="open")
