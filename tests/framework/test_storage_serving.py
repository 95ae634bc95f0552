"""``send_stored``: a stored file with its strong ETag and the cache policy its caller chose, or 304."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from conexoos.framework.storage.local import LocalStorage
from conexoos.framework.storage.serving import send_stored


@pytest.mark.parametrize(
    ("immutable", "expected"),
    [(True, "public, max-age=31536000, immutable"), (False, "public, max-age=3600")],
    ids=["never-taken-down", "may-be-taken-down"],
)
def test_a_file_that_may_be_taken_down_is_not_immutable(
    tmp_path: Path, immutable: bool, expected: str
) -> None:
    """A cache keeps an ``immutable`` answer for its whole max-age without asking: a caller whose files can
    be taken down (a suspended account's uploads) says so, and gets its max-age alone, on the 304 too."""
    storage = LocalStorage(tmp_path)
    storage.save("img/a.webp", b"RIFF....WEBP", "image/webp")
    app = Flask(__name__)
    max_age = 31536000 if immutable else 3600
    with app.test_request_context("/media/img/a.webp"):
        sent = send_stored(storage, "img/a.webp", max_age, immutable=immutable)
    assert sent.status_code == 200 and sent.headers["Cache-Control"] == expected
    etag = sent.headers["ETag"]
    with app.test_request_context("/media/img/a.webp", headers={"If-None-Match": etag}):
        again = send_stored(storage, "img/a.webp", max_age, immutable=immutable)
    assert again.status_code == 304 and again.headers["Cache-Control"] == expected
