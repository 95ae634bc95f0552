"""``/media/<path>``: uploaded images, from the configured storage (every host sees the same files),
served with a strong ETag and long cache headers (their names never change). Session-optional: with the
session store down, a signed-in visitor (an owner previewing their page) still gets the images."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.wrappers import Response

from conexoos.framework.sessions import session_optional
from conexoos.framework.storage import media_storage
from conexoos.framework.storage.serving import ONE_YEAR, send_stored

media = Blueprint("media", __name__)


@media.route("/media/<path:filename>", methods=["GET"])
@session_optional
def serve(filename: str) -> Response:
    """Send a stored upload (304 when the browser has it); 404 when it does not exist."""
    return send_stored(media_storage(), filename, max_age=ONE_YEAR)
