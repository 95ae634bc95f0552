"""Public pages and profile settings."""

from __future__ import annotations

import io
from dataclasses import dataclass

import segno
from flask import current_app, url_for
from sqlalchemy import and_, select
from werkzeug.exceptions import NotFound

from conexoos.app.models.persistent import User, UserLink
from conexoos.app.models.persistent.base import utcnow
from conexoos.app.utils.io import IOUtils, Upload
from conexoos.framework import db, runtime

AVATAR_FOLDER = "img/avatars"


@dataclass(frozen=True)
class PublicPage:
    """What a public page shows: the owner and their live links in order."""

    user: User
    links: list[UserLink]


def public_page(username: str) -> PublicPage:
    """Load a page in one query (the owner joined to their live links); 404 for an unknown user."""
    now = utcnow()
    query = (
        select(User, UserLink)
        .outerjoin(UserLink, and_(UserLink.owner_id == User.id, UserLink.live_condition(now)))
        .where(User.username == username.lower())
        .order_by(UserLink.order_index, UserLink.id)
    )
    rows = db.session.execute(query).all()
    if not rows:
        raise NotFound("There is no page with this name.")
    user = rows[0][0]
    return PublicPage(user=user, links=[link for _, link in rows if link is not None])


def live_link(link_id: int) -> UserLink:
    """A link that may be followed now; 404 when unknown, disabled or outside its window."""
    link = db.session.get(UserLink, link_id)
    if link is None or not link.is_live(utcnow()):
        raise NotFound("This link does not exist or is not live.")
    return link


def io_utils() -> IOUtils:
    """The IOUtils of this app: files under ``<instance>/uploads``."""
    return IOUtils(runtime().settings.instance_path / "uploads")


def update_profile(user: User, display_name: str, bio: str, avatar: Upload | None) -> None:
    """Save name, bio and (re-encoded) avatar; InvalidImage leaves everything as it was."""
    files = io_utils()
    new_avatar = files.save_image(avatar, AVATAR_FOLDER, default="") if avatar and avatar.filename else None
    old_avatar = user.avatar
    user.display_name = display_name.strip()
    user.bio = bio.strip()
    if new_avatar:
        user.avatar = new_avatar
    try:
        user.save()
    except BaseException:
        files.delete(new_avatar)
        raise
    if new_avatar and old_avatar:
        files.delete(old_avatar)


def page_url(user: User) -> str:
    """The absolute URL of the user's public page."""
    return url_for("public.profile", username=user.username, _external=True)


def qr_code(user: User, kind: str) -> bytes:
    """The QR code of the user's page as ``png`` or ``svg`` bytes."""
    code = segno.make(page_url(user), error="m")
    buffer = io.BytesIO()
    if kind == "png":
        code.save(buffer, kind="png", scale=10, border=4)
    else:
        code.save(buffer, kind="svg", scale=10, border=4, xmldecl=True, title=f"{current_app.config['APP_NAME']}")
    return buffer.getvalue()
