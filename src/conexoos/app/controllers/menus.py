"""The site's header and footer menus: ordered entries, each a site page (``/p/<slug>``) or an external
http(s) link, edited by administrators (every change audit-logged) and shown on the home, sign-up and
login pages. An entry whose page visitors may not see (a draft, a page scheduled for later) is hidden
from them, and shows again by itself once the page is public.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import func, or_, select
from werkzeug.exceptions import NotFound

from conexoos.app.dto.errors import InputError
from conexoos.app.models.persistent import SitePage
from conexoos.app.models.persistent.base import utcnow
from conexoos.app.models.persistent.menu_item import LABEL_MAX, MENUS, URL_MAX, MenuItem
from conexoos.app.utils.text import has_bidi_controls, has_control_characters, is_visible
from conexoos.app.utils.urls import UnsafeURL, normalise_url
from conexoos.framework import db

from . import audit, blocklist
from .ordering import reorder as reorder_items

UP, DOWN = "up", "down"


class MenuError(ValueError):
    """An entry that cannot be saved; ``field`` names the form field, ``message`` says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class EntryInput:
    """What the form gives for an entry: a label and either a page's id or a URL."""

    label: str
    page_id: int | None = None
    url: str = ""


@dataclass(frozen=True)
class Shown:
    """A menu entry as visitors see it: its label and where it goes."""

    label: str
    href: str
    external: bool


@dataclass(frozen=True)
class Listed:
    """A menu entry as the admin lists it, with its page (None for a link) and whether visitors see it."""

    item: MenuItem
    page: SitePage | None
    visible: bool


def page_path(slug: str) -> str:
    """The address of the site page ``slug`` (the route comes with the site pages, ``/p/<slug>``)."""
    return "/p/" + quote(slug, safe="")


def shown(menu: str, now: datetime | None = None) -> list[Shown]:
    """The entries of ``menu`` visitors see, in order: pages that are public, and links whose domain is
    not on the blocklist (one query, and one more when the menu has links)."""
    now = now or utcnow()
    query = (
        select(MenuItem.label, MenuItem.url, SitePage.slug)
        .outerjoin(SitePage, SitePage.id == MenuItem.page_id)
        .where(MenuItem.menu == menu, or_(MenuItem.page_id.is_(None), SitePage.public_at(now)))
        .order_by(MenuItem.position, MenuItem.id)
    )
    rows = db.session.execute(query).all()
    blocked = blocklist.blocked_among(url for _, url, _ in rows if url)
    return [
        Shown(label, url, True) if url else Shown(label, page_path(slug), False)
        for label, url, slug in rows
        if url not in blocked
    ]


def listed(menu: str, now: datetime | None = None) -> list[Listed]:
    """Every entry of ``menu`` in order, for the admin, each marked visible or not (a page that is not
    public, a link to a blocked domain)."""
    now = now or utcnow()
    query = (
        select(MenuItem, SitePage)
        .outerjoin(SitePage, SitePage.id == MenuItem.page_id)
        .where(MenuItem.menu == menu)
        .order_by(MenuItem.position, MenuItem.id)
    )
    rows = db.session.execute(query).all()
    blocked = blocklist.blocked_among(item.url for item, _ in rows if item.url)
    return [
        Listed(item, page, page.is_public(now) if page else item.url not in blocked) for item, page in rows
    ]


def pages() -> Sequence[SitePage]:
    """The site pages an entry may point to, by title (drafts too: their entries show once published)."""
    return db.session.scalars(select(SitePage).order_by(SitePage.title, SitePage.id)).all()


def public_slugs(slugs: Sequence[str], now: datetime | None = None) -> set[str]:
    """Which of ``slugs`` are pages visitors may see now (one query): for the Terms and Privacy line."""
    query = select(SitePage.slug).where(SitePage.slug.in_(list(slugs)), SitePage.public_at(now or utcnow()))
    return set(db.session.scalars(query))


def get(item_id: int) -> MenuItem:
    """The entry ``item_id``; 404 when there is none."""
    item = db.session.get(MenuItem, item_id)
    if item is None:
        raise NotFound("There is no such menu entry.")
    return item


def add(menu: str, entry: EntryInput) -> MenuItem:
    """Add ``entry`` at the end of ``menu`` (audit-logged, committed)."""
    if menu not in MENUS:
        raise MenuError("menu", f"Choose the {' or the '.join(MENUS)} menu.")
    label, page_id, url = _checked(entry)
    last = db.session.scalar(select(func.max(MenuItem.position)).where(MenuItem.menu == menu))
    item = MenuItem(menu=menu, position=(last or 0) + 1, label=label, page_id=page_id, url=url)
    db.session.add(item)
    db.session.flush()
    audit.record("menu.add", item, None, _state(item), f"{menu} menu: added {label!r}")
    _commit()
    return item


def edit(item_id: int, entry: EntryInput) -> MenuItem:
    """Give the entry a new label and target (audit-logged, committed)."""
    item = get(item_id)
    before = _state(item)
    item.label, item.page_id, item.url = _checked(entry)
    audit.record("menu.edit", item, before, _state(item), f"{item.menu} menu: edited {item.label!r}")
    _commit()
    return item


def delete(item_id: int) -> str:
    """Remove the entry (audit-logged, committed); its label."""
    item = get(item_id)
    before = _state(item)
    audit.record("menu.delete", item, before, None, f"{item.menu} menu: removed {item.label!r}")
    db.session.delete(item)
    _commit()
    return str(before["label"])


def remove_entries_of_page(page_id: int) -> None:
    """Remove the entries leading to the site page ``page_id``, which is being deleted: each audit-logged
    as ``menu.delete``, in the current transaction (the caller commits)."""
    for item in db.session.scalars(select(MenuItem).where(MenuItem.page_id == page_id)):
        summary = f"{item.menu} menu: removed {item.label!r} with its page"
        audit.record("menu.delete", item, _state(item), None, summary)
        db.session.delete(item)


class MenuReordered(MenuError):
    """A move asked on an order that another tab or administrator has changed since it was shown."""


def move(item_id: int, direction: str, shown_order: list[int] | None = None) -> MenuItem:
    """Swap the entry with the one before (``up``) or after (``down``) it; at either end, nothing moves.

    ``shown_order``, the menu's entry ids as the page that asked showed them, makes a move on an order
    changed since a :class:`MenuReordered` (the neighbour it would swap with may not be the one the
    person saw): nothing moves. Without it, the move is made on the order held now.
    """
    if direction not in (UP, DOWN):
        raise MenuError("direction", "Move an entry up or down.")
    item = get(item_id)
    items = [listed_entry.item for listed_entry in listed(item.menu)]
    if shown_order is not None and shown_order != [entry.id for entry in items]:
        message = (
            f"The {item.menu} menu was changed in another tab or window since this page was shown: it is "
            "shown below as it is now. Move the entry again if it is still needed."
        )
        raise MenuReordered("shown", message)
    index = items.index(item)
    other = index - 1 if direction == UP else index + 1
    if not 0 <= other < len(items):
        return item
    items[index], items[other] = items[other], items[index]
    _renumber(item.menu, items, f"{item.menu} menu: moved {item.label!r} {direction}")
    return item


def reorder(menu: str, payload: Any) -> list[MenuItem]:
    """Put ``menu`` in the order of ``payload["ids"]`` (each of its entries once; the API's 422/404
    otherwise), audit-logged and committed."""
    if menu not in MENUS:
        raise NotFound("There is no such menu.")
    items = [listed_entry.item for listed_entry in listed(menu)]
    try:
        ordered = reorder_items(_Positioned.wrap(items), payload, "menu entry", "menu entries")
    except NotFound:
        _refuse_other_menus_entries(menu, payload["ids"])  # the ids parsed: only then is it a 404
        raise
    result = [wrapper.item for wrapper in ordered]
    _renumber(menu, result, f"{menu} menu: reordered")
    return result


def _refuse_other_menus_entries(menu: str, ids: list[int]) -> None:
    """A 422 naming the first of ``ids`` that is an entry of another menu (it exists: no 404's "deleted")."""
    found = db.session.execute(
        select(MenuItem.id, MenuItem.menu).where(MenuItem.id.in_(ids), MenuItem.menu != menu).limit(1)
    ).first()
    if found is not None:
        message = (
            f"Menu entry {found.id} is in the {found.menu} menu, not the {menu} menu: each menu is "
            "reordered on its own (reload to see both as they are now)."
        )
        raise InputError(message, field="ids", code="other_menu")


class _Positioned:
    """A menu entry seen through ``ordering.reorder``'s ``id``/``order_index`` interface."""

    def __init__(self, item: MenuItem) -> None:
        self.item = item
        self.id = item.id
        self.order_index = item.position

    @classmethod
    def wrap(cls, items: Sequence[MenuItem]) -> list[_Positioned]:
        return [cls(item) for item in items]


def _renumber(menu: str, items: Sequence[MenuItem], summary: str) -> None:
    before = {"order": [item.id for item in sorted(items, key=lambda entry: (entry.position, entry.id))]}
    for position, item in enumerate(items, start=1):
        item.position = position
    audit.record("menu.reorder", ("menu", menu), before, {"order": [item.id for item in items]}, summary)
    _commit()


def _checked(entry: EntryInput) -> tuple[str, int | None, str | None]:
    label = _label(entry.label)
    if entry.page_id is not None:
        if db.session.get(SitePage, entry.page_id) is None:
            raise MenuError("page_id", "Choose one of the site's pages.")
        return label, entry.page_id, None
    return label, None, _url(entry.url)


def _label(raw: str) -> str:
    label = raw.strip()
    if not is_visible(label) or len(label) > LABEL_MAX:
        raise MenuError("label", f"A label has 1 to {LABEL_MAX} characters.")
    if has_control_characters(label) or has_bidi_controls(label):
        raise MenuError("label", "A label may not hold control characters or right-to-left overrides.")
    return label


def _url(raw: str) -> str:
    if not raw.strip():
        raise MenuError("url", "Give the link's address, or choose a page.")
    if len(raw.strip()) > URL_MAX:
        raise MenuError("url", f"An address holds at most {URL_MAX} characters.")
    try:
        url = normalise_url(raw, schemes=("http", "https"))  # a menu links to web pages only
    except UnsafeURL as error:
        raise MenuError("url", f"This address cannot be used: {error}.") from None
    if len(url) > URL_MAX:
        raise MenuError("url", f"An address holds at most {URL_MAX} characters.")
    domain = blocklist.blocking_domain(url)
    if domain is not None:
        raise MenuError(
            "url", f"Links to {domain} are not allowed on this site: the domain is on its blocklist."
        )
    return url


def _state(item: MenuItem) -> dict[str, Any]:
    return {
        "menu": item.menu,
        "position": item.position,
        "label": item.label,
        "page_id": item.page_id,
        "url": item.url,
    }


def _commit() -> None:
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
