"""Link icons in templates: ``link_icon(link)`` for ``public/_link_icon.html`` (the API routes that upload
a thumbnail are in :mod:`links_api`)."""

from __future__ import annotations

from flask import Blueprint

from conexoos.app.controllers.link_icons import LinkIcon, icon_of
from conexoos.app.models.persistent import UserLink
from conexoos.app.models.public_page import ShownLink

link_icons = Blueprint("link_icons", __name__)


@link_icons.app_template_global("link_icon")
def link_icon(link: UserLink | ShownLink) -> LinkIcon | None:
    """The icon ``public/_link_icon.html`` draws for ``link`` (no query: from the loaded row)."""
    return icon_of(link)
