"""The visitor's form reporting a public page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from conexoos.app.models.persistent.report import DETAILS_MAX

from .accounts import EMAIL_PATTERN
from .validators import MailableEmail, NoControlCharacters, with_unix_line_breaks

REASON_CHOICES = [
    SelectChoice("phishing", "Phishing: it imitates a site to steal passwords or money"),
    SelectChoice("spam", "Spam or scam"),
    SelectChoice("abuse", "Harassment, hate or abuse"),
    SelectChoice("illegal", "Illegal content"),
    SelectChoice("other", "Something else"),
]


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class ReportForm(FlaskForm):
    """Why the page is reported, details, and an optional address to be thanked at."""

    reason = SelectField("Reason", choices=REASON_CHOICES, validators=[DataRequired()])
    details = TextAreaField(
        "Details",
        description="Which link, and what is wrong with it (optional).",
        filters=[_strip, with_unix_line_breaks],
        validators=[Length(max=DETAILS_MAX), NoControlCharacters(multiline=True)],
    )
    email = EmailField(
        "Your email address (optional)",
        description="Only to tell you that we looked at your report.",
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=254),
            NoControlCharacters(),
            Regexp(EMAIL_PATTERN, message="Enter a valid email address."),
            MailableEmail(),
        ],
    )
