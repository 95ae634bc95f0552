"""``/media/<path>``: uploaded images, from the configured storage (every host sees the same files),
served with a strong ETag and ``Cache-Control: public, max-age=3600`` (:data:`MEDIA_MAX_AGE`).
Session-optional: with the session store down, a signed-in visitor (an owner previewing their page) still
gets the images.

Why an hour, and not the year an upload's never-changing name would allow: a file can be taken down (its
account suspended by staff, the image deleted or replaced by its owner, a library item deleted), and a
browser or shared cache that was told ``max-age=31536000, immutable`` kept showing it for a year, asking
nothing. With an hour, a takedown reaches every cache within an hour; after that a cache asks again with
``If-None-Match``, and an unchanged file is a 304 from its stored metadata alone (its bytes are not read).
``no-cache`` would bound it at zero, but cost a request per image on every view of a page (each a stat of
the storage: a query, or a HEAD to S3); an hour keeps a visitor's browsing of pages and a CDN's copies free
of them. The public page itself is cached separately (and is a 404 as soon as its account is suspended).

``/media/library/<id>/<name>.pdf``: a PDF of the media library, always as a download (an attachment named
after the uploaded file), never shown inside the site's origin. Anything stored that is not an image is
sent as an attachment by ``/media/<path>`` too, so no address shows a PDF inline.

The uploads of an account whose page is hidden (suspended by staff) answer 404 as its page does, to
everyone but the account itself and staff, and are then never kept by a shared cache."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from conexoos.app.controllers import media_library, user_images
from conexoos.app.controllers.roles import STAFF, has_role
from conexoos.app.models.persistent import MediaItem
from conexoos.app.models.persistent.media_item import PDF
from conexoos.framework import db
from conexoos.framework.sessions import session_optional
from conexoos.framework.storage import media_storage
from conexoos.framework.storage.serving import NOT_STORED, send_stored

media = Blueprint("media", __name__)
MEDIA_MAX_AGE = 3600
"""Seconds a browser or shared cache may show an upload without asking again: the longest a takedown
(suspension, deletion) takes to reach every cache."""


@media.route("/media/<path:filename>", methods=["GET"])
@session_optional
def serve(filename: str) -> Response:
    """Send a stored upload (304 when the browser has it); 404 when it does not exist, or when it is an
    upload of a hidden page and the visitor is neither its owner nor staff."""
    hidden_owner = user_images.hidden_page_owner(filename)
    if hidden_owner is not None and not (current_user.get_id() == str(hidden_owner.id) or has_role(*STAFF)):
        raise NotFound(NOT_STORED)
    response = send_stored(media_storage(), filename, max_age=MEDIA_MAX_AGE, immutable=False)
    if hidden_owner is not None:  # shown to this visitor only, and only until the page is shown again
        response.headers["Cache-Control"] = "private, no-cache"
    if response.status_code == 200 and not (response.mimetype or "").startswith("image/"):
        response.headers["Content-Disposition"] = "attachment"
    return response


@media.route("/media/library/<id:item_id>/<name>", methods=["GET"])
@session_optional
def library_file(item_id: int, name: str) -> Response:
    """Send a library PDF as an attachment named after the uploaded file (``name`` in the address is only
    for people reading it); 404 for an image's id or an id that does not exist."""
    item = db.session.get(MediaItem, item_id)
    if item is None or item.kind != PDF:
        raise NotFound("There is no such document.")
    response = send_stored(media_storage(), item.renditions[0].name, max_age=MEDIA_MAX_AGE, immutable=False)
    response.headers["Content-Type"] = media_library.PDF_TYPE
    response.headers["Content-Disposition"] = media_library.attachment_header(item.original_name)
    return response
