"""``/admin/pages``: the site's pages (About, Terms, ...) for moderators and administrators.

The editor works without JavaScript: its "Preview" button posts the form back and the page comes back
with the sanitised preview beside the text, nothing saved. With JavaScript, ``static/js/page_preview.js``
posts the text to :func:`preview` as the writer types. Every change is a POST with the CSRF token and is
audit-logged (controllers/site_pages.py).
"""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.wrappers import Response

from conexoos.app.blueprints.paging import requested_page
from conexoos.app.controllers import site_pages
from conexoos.app.controllers.roles import ADMIN, MODERATOR, staff_only
from conexoos.app.models.forms.site_page import SitePageForm
from conexoos.app.models.persistent.site_page import SitePage, SitePageRevision
from conexoos.app.utils.markdown import render, render_tree
from conexoos.framework.sessions import session_read_only

admin_pages = staff_only(Blueprint("admin_pages", __name__, url_prefix="/admin/pages"), ADMIN, MODERATOR)
PREVIEW = "preview"
PAGE_SIZE = 50
BASED_ON_UNREADABLE = (
    "The editor's revision number (based_on) is not a number: reload the page, edit it again and save."
)


@admin_pages.route("", methods=["GET"])
def index() -> str:
    """The pages with their address, status, publication time and last change, the most recently
    changed first, 50 a page."""
    total = site_pages.count_pages()
    shown = requested_page(total, PAGE_SIZE)
    return render_template(
        "admin/pages/index.html",
        pages=site_pages.pages(PAGE_SIZE, shown.offset),
        page=shown.number,
        page_count=shown.count,
        total=total,
    )


@admin_pages.route("/new", methods=["GET", "POST"])
def new() -> Response | str | tuple[str, int]:
    """The empty editor; a POST previews or creates the page."""
    form = SitePageForm()
    if request.method == "GET":
        return _editor(form, None)
    if request.form.get("action") == PREVIEW:
        return _editor(form, None, preview=True)
    if not form.validate():
        return _editor(form, None, preview=True), 422
    try:
        page = site_pages.create(form.page_input(), current_user.id)
    except site_pages.PageInvalid as error:
        form.add_errors(error.errors)
        return _editor(form, None, preview=True), 422
    flash(f"The page /p/{page.slug} is saved (revision 1).")
    return redirect(url_for("admin_pages.edit", page_id=page.id))


@admin_pages.route("/<id:page_id>/edit", methods=["GET", "POST"])
def edit(page_id: int) -> Response | str | tuple[str, int]:
    """The editor of one page; a POST previews, or saves a new revision."""
    page = _page_or_404(page_id)
    form = SitePageForm()
    if request.method == "GET":
        newest = site_pages.newest_revision(page.id)
        form.fill(page, newest.number if newest else None)
        return _editor(form, page)
    if request.form.get("action") == PREVIEW:
        return _editor(form, page, preview=True)
    if not form.validate():
        return _editor(form, page, preview=True), 422
    based_on = request.form.get("based_on", "")
    if based_on and not (based_on.isascii() and based_on.isdigit()):
        raise BadRequest(BASED_ON_UNREADABLE)  # read as "no revision": it skipped the check of a later save
    try:
        site_pages.update(page, form.page_input(), current_user.id)
    except site_pages.PageChanged as changed:
        form.add_errors(changed.errors)
        form.based_on.data = str(changed.revision.number)  # saving again replaces it, knowingly
        return _editor(form, page, preview=True), 409
    except site_pages.PageInvalid as error:
        form.add_errors(error.errors)
        return _editor(form, page, preview=True), 422
    flash(f"The page /p/{page.slug} is saved.")
    return redirect(url_for("admin_pages.edit", page_id=page.id))


@admin_pages.route("/preview", methods=["POST"])
@session_read_only
def preview() -> Response:
    """The sanitised HTML of the posted Markdown ``body``, nothing saved: JSON ``{"html": ..., "nodes":
    [...], "problem": ...}``, the nodes being the same HTML as a tree (see ``utils/markdown.render_tree``)
    and the problem what saving the text would refuse (or null). It only reads the session: the editor
    asks for it while its form may be saving, whose flash a write-back would lose."""
    payload = request.get_json(silent=True)
    body = payload.get("body") if isinstance(payload, dict) else request.form.get("body")
    if not isinstance(body, str):
        raise BadRequest("Send the page's text as the string field body.")
    unreadable = site_pages.unreadable_body(body)
    if unreadable:
        raise BadRequest(unreadable)
    return jsonify(html=str(render(body)), nodes=render_tree(body), problem=site_pages.body_problem(body))


@admin_pages.route("/<id:page_id>/delete", methods=["GET"])
def confirm_delete(page_id: int) -> str:
    """Ask before deleting the page."""
    return render_template("admin/pages/delete.html", page=_page_or_404(page_id))


@admin_pages.route("/<id:page_id>/delete", methods=["POST"])
def delete(page_id: int) -> Response:
    """Delete the page, its revisions and the menu entries pointing to it."""
    slug = site_pages.delete(_page_or_404(page_id))
    flash(f"The page /p/{slug} is deleted.")
    return redirect(url_for("admin_pages.index"))


@admin_pages.route("/<id:page_id>/revisions", methods=["GET"])
def revisions(page_id: int) -> str:
    """Every saved state of the page, newest first, 50 a page."""
    return _revisions_page(_page_or_404(page_id))


def _revisions_page(page: SitePage, error: str | None = None) -> str:
    total = site_pages.count_revisions(page.id)
    shown = requested_page(total, PAGE_SIZE, "revision list")
    return render_template(
        "admin/pages/revisions.html",
        page=page,
        revisions=site_pages.revisions(page.id, PAGE_SIZE, shown.offset),
        newest=site_pages.newest_revision_number(page.id),
        list_page=shown.number,
        list_page_count=shown.count,
        total=total,
        error=error,
    )


@admin_pages.route("/<id:page_id>/revisions/<id:revision_id>", methods=["GET"])
def changes(page_id: int, revision_id: int) -> str:
    """What the revision changed from the one before it."""
    page = _page_or_404(page_id)
    revision = _revision_or_404(page, revision_id)
    before = site_pages.previous_of(revision)
    return render_template(
        "admin/pages/diff.html",
        page=page,
        revision=revision,
        before=before,
        diff=site_pages.diff(before, revision),
    )


@admin_pages.route("/<id:page_id>/revisions/<id:revision_id>/restore", methods=["POST"])
def restore(page_id: int, revision_id: int) -> Response | tuple[str, int]:
    """Save the revision's content again as the page's newest revision."""
    page = _page_or_404(page_id)
    revision = _revision_or_404(page, revision_id)
    number = revision.number
    try:
        site_pages.restore(page, revision, current_user.id)
    except site_pages.PageInvalid as error:
        return _revisions_page(page, error=" ".join(error.errors.values())), 409
    flash(f"Revision {number} is restored as the page's newest revision.")
    return redirect(url_for("admin_pages.revisions", page_id=page.id))


def _editor(form: SitePageForm, page: SitePage | None, preview: bool = False) -> str:
    body = form.body.data or ""
    shown: Markup | None = None
    problem = None
    if preview or page is not None:
        shown = render(body[: site_pages.BODY_MAX])
    if preview and not form.body.errors:  # a refused save shows the problem under the field already
        problem = site_pages.body_problem(body)
    return render_template("admin/pages/edit.html", form=form, page=page, preview=shown, problem=problem)


def _page_or_404(page_id: int) -> SitePage:
    page = site_pages.page_by_id(page_id)
    if page is None:
        raise NotFound("There is no page with this number: it may have been deleted.")
    return page


def _revision_or_404(page: SitePage, revision_id: int) -> SitePageRevision:
    revision = site_pages.revision_of(page.id, revision_id)
    if revision is None:
        raise NotFound("This page has no such revision.")
    return revision
