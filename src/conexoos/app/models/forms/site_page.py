"""The editor's form of a site page: it reads the fields; the rules are controllers/site_pages.py's."""

from __future__ import annotations

from datetime import UTC

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from conexoos.app.controllers.site_pages import PageInput
from conexoos.app.models.persistent.site_page import DRAFT, PUBLISHED, SCHEDULED, SitePage
from conexoos.app.utils.text import unix_line_breaks

STATUS_CHOICES = [
    SelectChoice(DRAFT, "Draft (only staff see it)"),
    SelectChoice(SCHEDULED, "Scheduled (public from the time below)"),
    SelectChoice(PUBLISHED, "Published"),
]


class SitePageForm(FlaskForm):
    """Title, address, description, social image, Markdown text, status and publication time."""

    title = StringField("Title")
    slug = StringField(
        "Address", description="Lowercase letters, digits and hyphens: the page is at /p/<address>."
    )
    description = StringField("Description", description="For search engines and shared links (300 at most).")
    social_image = StringField(
        "Social image",
        description="An image of the media library (/media/library/....webp) or an https:// image address.",
    )
    body = TextAreaField("Text (Markdown)", description="Raw HTML is shown as text.")
    status = SelectField("Status", choices=STATUS_CHOICES, validate_choice=False)
    publish_at = DateTimeLocalField(
        "Publish at (UTC)", format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], validators=[Optional()]
    )
    note = StringField("Note on this change (optional)")
    based_on = HiddenField()
    """The number of the page's newest revision when the editor was opened: a save over a newer one is
    refused once (controllers/site_pages.PageChanged)."""

    def page_input(self) -> PageInput:
        """What the writer typed, as the controller takes it."""
        publish_at = self.publish_at.data
        return PageInput(
            slug=self.slug.data or "",
            title=self.title.data or "",
            description=self.description.data or "",
            social_image=self.social_image.data or "",
            body=unix_line_breaks(self.body.data or ""),
            status=self.status.data or DRAFT,
            publish_at=publish_at.replace(tzinfo=UTC) if publish_at else None,
            note=self.note.data or "",
            based_on=int(self.based_on.data) if (self.based_on.data or "").isdigit() else None,
        )

    def fill(self, page: SitePage, revision: int | None) -> None:
        """Show ``page``'s current state in the fields, as of its newest ``revision`` (its number)."""
        for name in ("title", "slug", "description", "social_image", "body", "status"):
            getattr(self, name).data = getattr(page, name)
        self.publish_at.data = page.publish_at.replace(tzinfo=None) if page.publish_at else None
        self.based_on.data = str(revision) if revision is not None else ""

    def add_errors(self, errors: dict[str, str]) -> None:
        """Show the controller's messages under their fields."""
        for name, message in errors.items():
            field = getattr(self, name, None) or self.body
            field.errors = [*field.errors, message]
