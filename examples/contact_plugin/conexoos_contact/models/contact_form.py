"""The visitor's form: name, email address and message, all required."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp

from conexoos.app.models.forms.accounts import EMAIL_PATTERN
from conexoos.app.models.forms.validators import MailableEmail, NoControlCharacters

from .contact_message import BODY_MAX, EMAIL_MAX, NAME_MAX


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class ContactForm(FlaskForm):
    """What a visitor sends to a page's owner."""

    name = StringField(
        "Your name",
        filters=[_strip],
        validators=[
            DataRequired("Enter your name."),
            Length(max=NAME_MAX, message=f"Keep your name under {NAME_MAX} characters."),
            NoControlCharacters(),
        ],
    )
    email = EmailField(
        "Your email address",
        description="The owner replies to this address.",
        filters=[_strip],
        validators=[
            DataRequired("Enter your email address, so that the owner can reply."),
            Length(max=EMAIL_MAX),
            NoControlCharacters(),
            Regexp(EMAIL_PATTERN, message="Enter a valid email address."),
            MailableEmail(),
        ],
    )
    message = TextAreaField(
        "Message",
        filters=[_strip],
        validators=[
            DataRequired("Write a message."),
            Length(max=BODY_MAX, message=f"Keep the message under {BODY_MAX} characters."),
            NoControlCharacters(multiline=True),
        ],
    )
