"""The profile settings form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length

from .validators import NoControlCharacters, VisibleOrEmpty, with_unix_line_breaks


class ProfileForm(FlaskForm):
    """Display name, bio (up to 300 characters) and an optional avatar image, which can be removed."""

    display_name = StringField(
        "Display name",
        validators=[Length(max=60), NoControlCharacters(), VisibleOrEmpty()],
        render_kw={"dir": "auto"},  # typed in Arabic or Hebrew, it reads right to left
    )
    bio = TextAreaField(
        "Bio",
        filters=[with_unix_line_breaks],
        validators=[Length(max=300), NoControlCharacters(multiline=True)],
        render_kw={"dir": "auto"},
    )
    avatar = FileField(
        "Avatar (PNG, JPEG, WebP or GIF)",
        render_kw={"accept": "image/png,image/jpeg,image/webp,image/gif"},  # as every other image input
    )
    remove_avatar = BooleanField("Remove the avatar (your page shows the default picture)")
