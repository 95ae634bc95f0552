"""What an image's file input tells ``static/js/file_size.js`` about the largest file it may send."""

from __future__ import annotations

from conexoos.app.utils.io import MAX_UPLOAD_BYTES
from conexoos.framework.request_size import file_input_limit
from conexoos.framework.wording import human_size


def image_input_limits() -> dict[str, str]:
    """The request's limit (``file_input_limit``) and the image's own, smaller one (``data-max-file-bytes``
    and, in words, ``data-max-file-size``): a 9 MB picture passed the request's 16 MB, was sent whole,
    then refused as "larger than 8 MB", and the script had said the site took 16 MB."""
    return {
        **file_input_limit(),
        "data-max-file-bytes": str(MAX_UPLOAD_BYTES),
        "data-max-file-size": human_size(MAX_UPLOAD_BYTES),
    }
