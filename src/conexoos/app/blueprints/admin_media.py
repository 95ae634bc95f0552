"""``/admin/media``: the site's media library, for administrators and moderators (pages are their work).

Upload an image or a PDF, list the items with the space they take against the site's limit, open one to
copy its Markdown or HTML snippet and see which pages use it, and delete it (with a confirmation listing
those pages when there are any). The rules are in ``controllers/media_library.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from conexoos.app.blueprints.paging import requested_page
from conexoos.app.controllers import media_library
from conexoos.app.controllers.roles import staff_only
from conexoos.app.models.persistent import MediaItem, SitePage

admin_media = staff_only(Blueprint("admin_media", __name__, url_prefix="/admin/media"))
PAGE_SIZE = 24


@admin_media.route("", methods=["GET"])
def index() -> str:
    """The upload form and one page of items, newest first."""
    return _library_page()


@admin_media.route("", methods=["POST"])
def upload() -> Response | tuple[str, int]:
    """Store the form's ``file`` with its ``title`` and ``alt_text``; the form again, with why, if refused."""
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        return _library_page(error="Choose an image or a PDF to upload.", field="file"), 400
    try:
        item = media_library.upload(
            sent.stream,
            sent.filename,
            request.form.get("title", ""),
            request.form.get("alt_text", ""),
            current_user._get_current_object(),
        )
    except media_library.UploadRefused as refused:
        return _library_page(error=str(refused), field=refused.field), refused.status
    flash(f"{item.original_name} is in the library.")
    return redirect(url_for("admin_media.item", item_id=item.id))


@admin_media.route("/<id:item_id>", methods=["GET"])
def item(item_id: int) -> str:
    """One item: its files, the snippets to paste into a page, where it is used, and delete."""
    found = media_library.get_item(item_id)
    return _item_page(found)


@admin_media.route("/<id:item_id>/delete", methods=["POST"])
def delete(item_id: int) -> Response | tuple[str, int]:
    """Delete the item; when pages use it, first a page asking to confirm (listing them)."""
    try:
        deleted = media_library.delete_item(item_id, request.form.get("confirm", ""))
    except media_library.ConfirmationNeeded as needed:
        return _item_page(needed.item, confirm_pages=needed.pages), 409
    except media_library.MediaStorageFailed as failed:
        return _item_page(media_library.get_item(item_id), error=str(failed)), 503
    flash(f"{deleted.original_name} was deleted from the library.")
    return redirect(url_for("admin_media.index"))


def _library_page(error: str | None = None, field: str = "") -> str:
    total = media_library.count_items()
    shown = requested_page(total, PAGE_SIZE, "library")
    return render_template(
        "admin/media.html",
        items=media_library.list_items(PAGE_SIZE, shown.offset),
        total=total,
        page=shown.number,
        pages=shown.count,
        used=media_library.total_bytes(),
        limits=media_library.limits(),
        library=media_library,
        error=error,
        field=field,
        form=request.form,
    )


def _item_page(
    found: MediaItem, confirm_pages: Sequence[SitePage] | None = None, error: str | None = None
) -> str:
    used_by = media_library.where_used(found) if confirm_pages is None else confirm_pages
    return render_template(
        "admin/media_item.html",
        item=found,
        used_by=used_by,
        confirming=confirm_pages is not None,
        token=media_library.usage_token(used_by),
        library=media_library,
        error=error,
    )
