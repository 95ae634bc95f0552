"""What icon a link shows on the public page: the owner's uploaded thumbnail, else the brand icon of its
URL's domain, else none; and whether a screen reader needs the icon's name."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from conexoos.app.models.persistent import User, UserLink
from conexoos.app.models.public_page import ShownLink
from conexoos.app.utils.io import Upload
from conexoos.app.utils.link_icons import network_for_url
from conexoos.framework.urls import external_url

from . import profiles
from .image_replacement import replace_image
from .links import get_link
from .owner_lock import locked_owner
from .suspension import refuse_if_suspended

THUMBNAIL_FOLDER = "img/link-icons"


@dataclass(frozen=True)
class LinkIcon:
    """An icon to draw before a link's title."""

    symbol: str = ""
    """The sprite's symbol id (``si-instagram``); empty for a thumbnail."""
    name: str = ""
    """The network's name, for screen readers, when the link's title does not already say it."""
    thumbnail: str = ""
    """The media path of the owner's uploaded thumbnail."""


def icon_of(link: UserLink | ShownLink) -> LinkIcon | None:
    """The icon of ``link``: its thumbnail (decorative: the title names the link), else its network's
    brand icon, named unless the title already holds the network's name; None when it has neither."""
    return _icon(link.icon, link.url, link.title)


@functools.lru_cache(maxsize=4096)
def _icon(icon: str, url: str, title: str) -> LinkIcon | None:
    """:func:`icon_of` from the three columns it reads: the same for every render of a page, so kept
    (parsing the URL for its host, per link and per render, was a tenth of the page's template)."""
    if icon:
        return LinkIcon(thumbnail=icon)
    network = network_for_url(url)
    if network is None:
        return None
    named_by_title = network.name.casefold() in title.casefold()
    return LinkIcon(symbol=network.symbol, name="" if named_by_title else network.name)


def set_thumbnail(user: User, link_id: int, upload: Upload | None) -> UserLink:
    """Give the user's link an uploaded thumbnail, decoded and re-encoded by IOUtils (InvalidImage for a
    file that is not an image, and nothing changes); 404 for another user's link."""
    refuse_if_suspended(user)
    return replace_image(
        user, lambda owner: get_link(owner, link_id), "icon", upload, field="icon", folder=THUMBNAIL_FOLDER
    )


def remove_thumbnail(user: User, link_id: int) -> UserLink:
    """Remove the link's thumbnail: it shows its brand icon again, if any."""
    refuse_if_suspended(user)
    with locked_owner(user) as owner:
        link = get_link(owner, link_id)
        old, link.icon = link.icon, ""
    profiles.io_utils().delete(old)
    return link


def icon_json(link: UserLink) -> dict[str, Any]:
    """The link's icon as the API shows it: the brand network found from its URL, and its thumbnail's URL."""
    network = network_for_url(link.url)
    thumbnail = external_url("media.serve", filename=link.icon) if link.icon else None
    return {"id": link.id, "network": network.key if network else None, "thumbnail": thumbnail}
