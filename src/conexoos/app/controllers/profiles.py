"""Public pages and profile settings."""

from __future__ import annotations

import functools
import io
import json
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from flask import current_app, request
from sqlalchemy import ColumnElement, ScalarSelect, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import aliased
from werkzeug.exceptions import Gone, NotFound

from conexoos.app.models.persistent import CaptureEntry, PageAppearance, Product, SiteSetting, User, UserLink
from conexoos.app.models.persistent.base import utcnow
from conexoos.app.models.persistent.types import NOW
from conexoos.app.models.public_page import PageOwner, ShownLink, ShownProduct
from conexoos.app.utils.io import EncodedImage, IOUtils
from conexoos.app.utils.text import unix_line_breaks, username_folded
from conexoos.framework import db
from conexoos.framework.database import reading
from conexoos.framework.static_files import url_for
from conexoos.framework.storage import media_storage
from conexoos.framework.urls import external_url, public_url

from . import plans, site_settings
from .appearance import Appearance, Look, from_row, look
from .blocks.link import LINK
from .blocks.product import PRODUCT
from .blocks.public import Run, shown_link_columns, shown_runs
from .suspension import refuse_if_suspended
from .themes import DEFAULT_THEME, theme_key

AVATAR_FOLDER = "img/avatars"
THEME_SETTING = "default_theme"
NAME_SETTING = "site_name"


@dataclass(frozen=True)
class StaticImage:
    """A static image of the product, with its size in pixels."""

    filename: str
    width: int
    height: int


DEFAULT_SHARE_IMAGE = StaticImage("img/default_avatar.png", 600, 600)
"""The link-preview image (``og:image``) of a page whose creator has no avatar: the default avatar as a PNG
(``scripts/make_default_avatar_png.py`` draws it), since link-card fetchers (Facebook, X, LinkedIn,
Slack) ignore an SVG."""


@dataclass(frozen=True)
class PublicPage:
    """What a public page shows, as plain values (``models/public_page.py``): the owner and the shown
    blocks in page order, within the plan."""

    user: PageOwner
    runs: list[Run]
    """Consecutive shown blocks of one kind; each kind draws its run with its partial."""
    site_name: str
    """The site's name (its ``site_name`` setting, else ``APP_NAME``), read in the first query."""
    theme: str = DEFAULT_THEME
    """The creator's theme, else the site's default (``controllers/themes.py``), read in the first query."""
    appearance: Appearance | None = None
    """The creator's appearance choices (``controllers/appearance.py``), read in the first query; None
    when they never saved any."""
    next_start: datetime | None = None
    """When the owner's next scheduled link comes into its window (the page changes then), if any."""
    capture_entries: int = 0
    """The owner's email sign-ups, read in the first query: at the plan's limit the page's sign-up forms
    are shown closed (``capture_entries.forms_closed``)."""

    @property
    def links(self) -> list[ShownLink]:
        """The shown links, in page order."""
        return [item for run in self.runs if run.kind is LINK for item in run.items]

    @property
    def products(self) -> list[ShownProduct]:
        """The shown products, in page order."""
        return [item for run in self.runs if run.kind is PRODUCT for item in run.items]

    @property
    def scripts(self) -> list[str]:
        """The static scripts the shown kinds use, each once, in page order."""
        return list(dict.fromkeys(run.kind.script for run in self.runs if run.kind.script))


def public_page(username: str) -> PublicPage:
    """Load a page in two queries (the owner joined to the site's theme setting and the appearance; the
    blocks joined to their live links and shown products); 404 for an unknown user, a suspended one, and
    under ``VERIFY_EMAIL: required`` for one whose address is not verified yet.

    Items past the plan's limit are hidden, never deleted: they come back when the plan allows them.
    """
    now = utcnow()
    with reading() as connection:
        row = connection.execute(
            _page_owner_query(), {"username": username_folded(username), "now": now}
        ).first()
        if row is None:
            raise NotFound("There is no page with this name.")
        owner = PageOwner(*row[:OWNER_WIDTH])
        if page_hidden(owner):
            raise NotFound("There is no page with this name.")
        runs = shown_runs(connection, owner, now)
    stored_theme, stored_name, appearance_user_id, *choices = row[OWNER_WIDTH:-2]
    chosen = Appearance(*choices) if appearance_user_id is not None else None
    return PublicPage(
        user=owner,
        runs=runs,
        site_name=str(json.loads(stored_name)) if stored_name else str(current_app.config["APP_NAME"]),
        theme=page_theme(chosen, json.loads(stored_theme) if stored_theme else None),
        appearance=chosen,
        next_start=row[-2],
        capture_entries=row[-1] or 0,
    )


def page_theme(chosen: Appearance | None, site_default: Any) -> str:
    """The theme a page wears: its creator's choice, else the site's ``default_theme`` (``site_default``,
    as stored), else (a name no longer listed) :data:`DEFAULT_THEME`."""
    return theme_key((chosen and chosen.theme) or site_default)


def owner_look(owner_id: int | None) -> Look:
    """The look of the pages around a creator's public page (a link's lock page and the page opening it,
    a sign-up form's answers): their theme and overrides, as on the page (one query for the overrides;
    the site's default theme comes from the settings cache); the site's default theme alone for no
    owner."""
    row = db.session.get(PageAppearance, owner_id) if owner_id is not None else None
    chosen = from_row(row) if row is not None else None
    return look(page_theme(chosen, site_settings.shown().get(THEME_SETTING)), chosen)


def page_hidden(user: User | PageOwner) -> bool:
    """Whether ``user``'s page answers 404: suspended by staff (the owner's dashboard says why), or under
    ``VERIFY_EMAIL: required`` unpublished until the owner's address is verified."""
    if user.suspended_at is not None:
        return True
    return bool(current_app.config["CONEXOOS_ACCOUNTS"].verification_required and not user.email_verified)


# The public page's and the redirects' statements are built once per process with bound parameters: building
# one costs more than SQLAlchemy's cached compilation of it (a tenth of a millisecond, every request; several
# for the page's, whose aliased subquery SQLAlchemy adapts column by column). They select columns of the
# tables, not entities: the rows become the plain values of ``models/public_page.py``.

OWNER_WIDTH = len(fields(PageOwner))


def _owner_columns() -> list[ColumnElement[Any]]:
    """The columns of ``user`` a :class:`PageOwner` holds, in its order."""
    return [User.__table__.c[field.name] for field in fields(PageOwner)]


@functools.cache
def _page_owner_query() -> Select[Any]:
    """The owner named ``:username`` with the site's theme and name settings and joined to their
    appearance (one row or none each: no extra query), with when their next link comes into its window after
    ``:now`` and how many email sign-ups they hold: the owner's columns, the two settings, the
    appearance's ``user_id`` (None: no row) and its choices in the order of :class:`Appearance`, then the
    next start and the sign-ups."""
    user, chosen = User.__table__, PageAppearance.__table__
    return (
        select(
            *_owner_columns(),
            _site_setting(THEME_SETTING),
            _site_setting(NAME_SETTING),
            chosen.c.user_id,
            *(chosen.c[field.name] for field in fields(Appearance)),
            _next_start(),
            _capture_entries(),
        )
        .select_from(user)
        .outerjoin(chosen, chosen.c.user_id == user.c.id)
        .where(user.c.username == bindparam("username"))
    )


def _site_setting(key: str) -> ScalarSelect[str | None]:
    """The stored value of the site setting ``key`` (None when it was never saved), as a column of the
    page's first query. A subquery, not a join: the setting's row has nothing to join the owner on, and
    SQLAlchemy warned of a cartesian product on MariaDB."""
    setting = SiteSetting.__table__
    return select(setting.c.value).where(setting.c.key == key).scalar_subquery()


def _next_start() -> ScalarSelect[datetime | None]:
    """The earliest ``starts_at`` after ``:now`` among the page owner's shown links (a column of the page's
    first query, so that the page cache knows when the page changes by itself without a third query)."""
    later = aliased(UserLink)
    return (
        select(func.min(later.starts_at))
        .where(
            later.owner_id == User.id,
            later.enabled.is_(True),
            later.blocked.is_(False),
            later.starts_at > NOW,
        )
        .scalar_subquery()
    )


def _capture_entries() -> ScalarSelect[int]:
    """How many email sign-ups the page owner holds (a column of the page's first query, so that the page
    shows its forms closed at the plan's limit without a third query)."""
    entries = CaptureEntry.__table__
    return select(func.count()).select_from(entries).where(entries.c.owner_id == User.id).scalar_subquery()


@functools.cache
def _live_link_query() -> Select[Any]:
    """Link ``:link_id`` as a :class:`ShownLink`, whether it is blocked and live at ``:now``, how many of
    the owner's links live then come before it on the page (its position, checked against the plan's
    limit without a second query), and its owner as a :class:`PageOwner`."""
    before = aliased(UserLink)
    live_before = UserLink.live_condition.__func__(before, NOW)  # type: ignore[attr-defined]
    earlier = or_(
        before.order_index < UserLink.order_index,
        and_(before.order_index == UserLink.order_index, before.id < UserLink.id),
    )
    position = (
        select(func.count(before.id))
        .where(before.owner_id == UserLink.owner_id, live_before, earlier)
        .scalar_subquery()
    )
    return (
        select(
            *shown_link_columns(),
            UserLink.blocked,
            UserLink.live_condition(NOW),
            position,
            *_owner_columns(),
        )
        .join(User, User.id == UserLink.owner_id)
        .where(UserLink.id == bindparam("link_id"))
    )


def live_link(link_id: int) -> ShownLink:
    """A link that may be followed now; 404 if unknown, disabled, out of its window, hidden by the plan
    or its owner is suspended; 410 when its domain is on the blocklist."""
    with reading() as connection:
        row = connection.execute(_live_link_query(), {"link_id": link_id, "now": utcnow()}).first()
    if row is None:
        raise NotFound("This link does not exist or is not live.")
    width = len(fields(ShownLink))
    blocked, live, position = row[width : width + 3]
    owner = PageOwner(*row[width + 3 :])
    if blocked and owner.suspended_at is None:
        raise Gone("This link was removed: its site is on this site's blocklist.")
    if not live or owner.suspended_at is not None:
        raise NotFound("This link does not exist or is not live.")
    limit = plans.visible_limit(owner, LINK)
    if limit is not None and position >= limit:
        raise NotFound("This link does not exist or is not live.")
    return ShownLink(*row[:width])


def lockable_link(link: ShownLink) -> UserLink:
    """The row of a live locked ``link`` (from :func:`live_link`) for its lock: the lock page and its form
    read the password's hash, which a :class:`ShownLink` never holds; 404 when it was deleted since."""
    row = db.session.get(UserLink, link.id)
    if row is None:
        raise NotFound("This link does not exist or is not live.")
    return row


def live_product(product_id: int) -> Product:
    """A product whose buy link may be followed; 404 when unknown, disabled or hidden by the plan; 410
    when its buy link's domain is on the blocklist."""
    row = db.session.execute(
        select(Product, User).join(User, User.id == Product.owner_id).where(Product.id == product_id)
    ).first()
    if row is not None and row[0].blocked and row[1].suspended_at is None:
        raise Gone("This product's link was removed: its site is on this site's blocklist.")
    if row is None or not row[0].enabled or row[1].suspended_at is not None:
        raise NotFound("This product does not exist or is not available.")
    product, owner = row
    limit = plans.visible_limit(owner, PRODUCT)
    if limit is not None:
        shown = db.session.scalars(
            select(Product.id)
            .where(Product.owner_id == owner.id, Product.enabled.is_(True), Product.blocked.is_(False))
            .order_by(Product.order_index, Product.id)
            .limit(limit)
        ).all()
        if product.id not in shown:
            raise NotFound("This product does not exist or is not available.")
    return product


def io_utils() -> IOUtils:
    """The IOUtils of this app: files in its media storage (``SERVER_ENV.MEDIA``)."""
    return IOUtils(media_storage())


def update_profile(
    user: User, display_name: str, bio: str, avatar: EncodedImage | None, remove_avatar: bool = False
) -> None:
    """Save name, bio and avatar (an upload re-encoded by :func:`~conexoos.app.utils.io.encode_upload`,
    checked before the form was decided), or remove the avatar (the default picture is shown; a new file
    wins over ``remove_avatar``); 403 while the account is suspended, and nothing changes. A file replaced
    or removed is deleted once the row is saved."""
    refuse_if_suspended(user)
    files = io_utils()
    new_avatar = files.store(avatar, AVATAR_FOLDER) if avatar is not None else None
    old_avatar = user.avatar
    user.display_name = display_name.strip()
    user.bio = unix_line_breaks(bio.strip())  # as every other text kept with its line breaks
    if new_avatar:
        user.avatar = new_avatar
    elif remove_avatar:
        user.avatar = None
    try:
        user.save()
    except BaseException:
        files.delete(new_avatar)
        raise
    if old_avatar and old_avatar != user.avatar:
        files.delete(old_avatar)


class PageUrls:
    """The URLs a public page repeats (templates' ``urls``), each built once per process and mount point
    (:func:`page_urls`): Werkzeug's build costs 20-40 µs a call, and a page of 10 blocks asked for 20.

    ``go`` and ``buy`` append the id to the prefix built for id 1: an id converter writes an int as its
    decimal digits (``framework/converters.py``), so the result is the URL ``url_for`` builds."""

    def __init__(self) -> None:
        self._go = _prefix("public.go", link_id=1)
        self._buy = _prefix("public.buy", product_id=1)
        self.home = url_for("public.home")
        """``url_for('public.home')``."""
        self._static: dict[str, str] = {}
        self._external_static: dict[str, str] = {}

    def go(self, link_id: int) -> str:
        """``url_for('public.go', link_id=link_id)``."""
        return f"{self._go}{int(link_id)}"

    def buy(self, product_id: int) -> str:
        """``url_for('public.buy', product_id=product_id)``."""
        return f"{self._buy}{int(product_id)}"

    def static(self, filename: str) -> str:
        """The static file's URL with its content hash (templates' ``url_for('static', ...)``), once per
        file."""
        url = self._static.get(filename)
        if url is None:
            url = self._static[filename] = url_for("static", filename=filename)
        return url

    def external_static(self, filename: str) -> str:
        """The static file's URL with its content hash, on the public URL (the default avatar: the page's
        picture, icon and link-preview image, cached for a year like the stylesheet), once each."""
        url = self._external_static.get(filename)
        if url is None:
            url = self._external_static[filename] = public_url() + self.static(filename)
        return url


PAGE_URLS = "conexoos.page_urls"
"""The app's extension key of its :class:`PageUrls`, one per mount point."""
MOUNT_POINTS_KEPT = 8
"""Mount points (``SCRIPT_NAME``) whose URLs are kept; a process sees one, or a few behind proxies."""


def page_urls() -> PageUrls:
    """The request's :class:`PageUrls`: the same for every request under its mount point (the URLs depend
    on nothing else: the URL map, the public URL and the static files' hashes are fixed per process)."""
    kept: dict[str, PageUrls] = current_app.extensions.setdefault(PAGE_URLS, {})
    mount_point = request.script_root
    urls = kept.get(mount_point)
    if urls is None:
        urls = PageUrls()
        if len(kept) < MOUNT_POINTS_KEPT:
            kept[mount_point] = urls
    return urls


def _prefix(endpoint: str, **values: int) -> str:
    """The URL of ``endpoint`` for the id 1 without that final ``1``."""
    url = url_for(endpoint, **values)
    if not url.endswith("/1"):
        raise ValueError(f"{endpoint}'s URL does not end with its id: {url}")
    return url[:-1]


def page_url(user: User | PageOwner) -> str:
    """The absolute URL of the user's public page."""
    return external_url("public.profile", username=user.username)


def qr_code(user: User, kind: str) -> bytes:
    """The QR code of the user's page as ``png`` or ``svg`` bytes."""
    import segno  # here, not with the app: only this download draws a QR code

    code = segno.make(page_url(user), error="m")
    buffer = io.BytesIO()
    if kind == "png":
        code.save(buffer, kind="png", scale=10, border=4)
    else:
        code.save(
            buffer, kind="svg", scale=10, border=4, xmldecl=True, title=f"{current_app.config['APP_NAME']}"
        )
    return buffer.getvalue()
