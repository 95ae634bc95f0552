"""``/admin/blocklist``: the domains refused in links, for administrators only.

Add one domain, remove one, or import a text file (one domain a line, ``#`` comments). Every change is
a POST with the CSRF token and is audit-logged (controllers/blocklist.py).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from conexoos.app.blueprints.paging import requested_page
from conexoos.app.controllers import blocklist
from conexoos.app.controllers.roles import ADMIN, staff_only
from conexoos.framework.wording import counted

admin_blocklist = staff_only(Blueprint("admin_blocklist", __name__, url_prefix="/admin/blocklist"), ADMIN)
MAX_IMPORT_BYTES = 1024 * 1024
MAX_TYPED = 300
"""The form's maxlength: a domain with its scheme or a trailing path, which the check names, fits."""
PAGE_SIZE = 100
ERRORS_SHOWN = 50


@admin_blocklist.route("", methods=["GET"])
def index() -> str:
    """The blocked domains, and the forms to add and import."""
    return _page()


@admin_blocklist.route("/add", methods=["POST"])
def add() -> Response | tuple[str, int]:
    """Block the form's ``domain`` and mark the links to it."""
    raw = request.form.get("domain", "")
    if len(raw) > MAX_TYPED:
        return _page(error=f"A domain name holds at most {blocklist.MAX_DOMAIN} characters."), 422
    try:
        entry, count = blocklist.add(current_user.id, raw)
    except blocklist.BlocklistError as error:
        return _page(error=str(error)), 422
    flash(f"{entry.domain} is blocked; {counted(count, 'existing link')} hidden.")
    return redirect(url_for("admin_blocklist.index"))


@admin_blocklist.route("/<id:domain_id>/remove", methods=["POST"])
def remove(domain_id: int) -> Response:
    """Unblock the domain, and the links no other entry blocks."""
    removed = blocklist.remove(domain_id)
    if removed is None:
        raise NotFound("This domain is not on the blocklist.")
    domain, count = removed
    flash(f"{domain} is no longer blocked; {counted(count, 'link')} shown again.")
    return redirect(url_for("admin_blocklist.index"))


@admin_blocklist.route("/import", methods=["POST"])
def import_file() -> str | tuple[str, int]:
    """Import a UTF-8 text file of domains; the page lists what was added and the lines refused."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(error="Choose a text file to import."), 400
    data = upload.stream.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        return _page(error="The file is larger than 1 MB: split it and import each part."), 413
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _page(error="The file is not UTF-8 text: save it as plain UTF-8 text and try again."), 400
    result = blocklist.import_lines(current_user.id, blocklist.split_lines(text))
    return _page(result=result)


def _page(error: str | None = None, result: blocklist.ImportResult | None = None) -> str:
    total = blocklist.count_listed()
    shown = requested_page(total, PAGE_SIZE, "blocklist")
    return render_template(
        "admin/blocklist.html",
        domains=blocklist.listed(PAGE_SIZE, shown.offset),
        total=total,
        page=shown.number,
        pages=shown.count,
        error=error,
        result=result,
        errors_shown=ERRORS_SHOWN,
    )
