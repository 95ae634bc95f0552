"""``/admin/menus``: the header and footer menus, for administrators only (menus are the site's structure).

Add an entry (a site page or an external http(s) link), edit, delete, and reorder it with the ↑/↓ buttons
(plain forms, no JavaScript needed) or by dragging (``static/js/admin_menus.js`` posts the new order as
JSON). Every change is a POST with the CSRF token and is audit-logged by controllers/menus.py.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.wrappers import Response as BaseResponse

from conexoos.app.controllers import menus
from conexoos.app.controllers.roles import ADMIN, staff_only
from conexoos.app.dto.errors import malformed
from conexoos.app.models.persistent.menu_item import HEADER, LABEL_MAX, MENUS, URL_MAX

admin_menus = staff_only(Blueprint("admin_menus", __name__, url_prefix="/admin/menus"), ADMIN)
MENU = f"any({', '.join(MENUS)})"
"""The route converter of a menu's name."""
PAGE, LINK = "page", "link"
MAX_ID_DIGITS = 12
GONE = (
    "That menu entry no longer exists: it was removed in another tab or window. The menus are shown below "
    "as they are now."
)
"""What a move or a delete of an entry removed since its page was shown says, above the menus."""
SHOWN_MAX = 20_000
"""The longest ``shown`` field read: room for about 1,500 entries' ids."""


@admin_menus.route("", methods=["GET"])
def index() -> str:
    """Both menus, each with its entries and the form to add one."""
    return _page()


@admin_menus.route(f"/<{MENU}:menu>/add", methods=["POST"])
def add(menu: str) -> BaseResponse | tuple[str, int]:
    """Add the form's entry at the end of ``menu``."""
    try:
        item = menus.add(menu, _entry())
    except menus.MenuError as error:
        return _page(errors={menu: error}, kept={menu: _kept()}), 422
    flash(f"“{item.label}” is added to the {menu} menu.")
    return redirect(url_for("admin_menus.index") + f"#{menu}-menu")


@admin_menus.route("/<id:item_id>/edit", methods=["GET", "POST"])
def edit(item_id: int) -> BaseResponse | tuple[str, int] | str:
    """The form to change an entry's label and target; a POST saves it."""
    item = menus.get(item_id)
    if request.method == "GET":
        return _edit_page(item.id, None, None)
    try:
        menus.edit(item_id, _entry())
    except menus.MenuError as error:
        return _edit_page(item.id, error, _kept()), 422
    flash(f"“{item.label}” is saved.")
    return redirect(url_for("admin_menus.index") + f"#{item.menu}-menu")


@admin_menus.route("/<id:item_id>/move", methods=["POST"])
def move(item_id: int) -> BaseResponse:
    """Move the entry one place ``up`` or ``down`` (the buttons that work without JavaScript). The form's
    ``shown`` (the menu's ids as the page showed them) turns a move on an order changed since into a
    message above the menu as it is now, instead of a swap with an entry the person did not see there."""
    try:
        item = menus.move(item_id, _form_text("direction", 10), _shown_order())
    except (menus.MenuReordered, NotFound) as stale:  # NotFound: removed in another tab or window
        flash(stale.message if isinstance(stale, menus.MenuReordered) else GONE)  # read first, at the top
        return redirect(url_for("admin_menus.index"))
    except menus.MenuError as error:
        raise BadRequest(error.message) from None
    return redirect(url_for("admin_menus.index") + f"#{item.menu}-menu")


@admin_menus.route(f"/<{MENU}:menu>/order", methods=["POST"])
def order(menu: str) -> Response:
    """Save the order of ``menu`` from ``{"ids": [...]}`` (after a drag): the saved order, or the API's
    JSON error."""
    payload = request.get_json(silent=True)
    if payload is None:
        raise malformed('Send the new order as JSON: {"ids": [...]}.')
    return jsonify({"ids": [item.id for item in menus.reorder(menu, payload)]})


@admin_menus.route("/<id:item_id>/delete", methods=["POST"])
def delete(item_id: int) -> BaseResponse:
    """Remove the entry (one removed already, in another tab or window: said so, nothing else)."""
    try:
        label = menus.delete(item_id)
    except NotFound:
        flash(GONE)
        return redirect(url_for("admin_menus.index"))
    flash(f"“{label}” is removed from the menu.")
    return redirect(url_for("admin_menus.index"))


def _entry() -> menus.EntryInput:
    """The entry the form describes: a page (``kind=page``, ``page_id``) or a link (``url``). A value too
    long to be one is refused under its field (:class:`menus.MenuError`), as a wrong one is."""
    label = request.form.get("label", "")
    if len(label) > LABEL_MAX * 4:  # past it, not checked further (the message says the limit)
        raise menus.MenuError("label", f"A label has 1 to {LABEL_MAX} characters.")
    kind = request.form.get("kind", "")
    if kind not in (PAGE, LINK):  # it was stored as a link, whatever it said
        raise menus.MenuError("kind", "Choose where the entry goes: a page of this site, or a link.")
    if kind == PAGE:
        raw = request.form.get("page_id", "")
        if not (raw.isascii() and raw.isdigit() and len(raw) <= MAX_ID_DIGITS):
            raise menus.MenuError("page_id", "Choose one of the site's pages.")
        return menus.EntryInput(label, page_id=int(raw))
    url = request.form.get("url", "")
    if len(url) > URL_MAX * 2:
        raise menus.MenuError("url", f"An address holds at most {URL_MAX} characters.")
    return menus.EntryInput(label, url=url)


def _kept() -> dict[str, str]:
    """The form's values to show again with a refusal, each cut to what a field could hold."""
    return {name: value[: URL_MAX * 2] for name, value in request.form.items()}


def _shown_order() -> list[int] | None:
    """The form's ``shown`` ids (comma-separated, as the page wrote them); None when the form has none
    (a page from before the field). Anything else is a 400: no page of the site sends it."""
    raw = _form_text("shown", SHOWN_MAX)
    if "shown" not in request.form:
        return None
    parts = raw.split(",") if raw else []
    if not all(part.isascii() and part.isdigit() and len(part) <= MAX_ID_DIGITS for part in parts):
        raise BadRequest("The field shown lists the menu's entry ids, separated by commas.")
    return [int(part) for part in parts]


def _form_text(name: str, limit: int) -> str:
    value = request.form.get(name, "")
    if len(value) > limit:
        raise BadRequest(f"The field {name} holds at most {limit} characters.")
    return value


def _page(errors: dict[str, menus.MenuError] | None = None, kept: dict[str, object] | None = None) -> str:
    return render_template(
        "admin/menus.html",
        menus={menu: menus.listed(menu) for menu in MENUS},
        pages=menus.pages(),
        errors=errors or {},
        kept=kept or {},
        label_max=LABEL_MAX,
        page_path=menus.page_path,
        first=HEADER,
    )


def _edit_page(item_id: int, error: menus.MenuError | None, kept: object) -> str:
    return render_template(
        "admin/menus_edit.html",
        item=menus.get(item_id),
        pages=menus.pages(),
        error=error,
        kept=kept,
        label_max=LABEL_MAX,
    )
