"""What a shared cache may keep (hashed static files, uploads, the favicon) is sent to a signed-in visitor
without their session cookie and without ``Vary: Cookie``; their pages still slide the cookie's expiry."""

from __future__ import annotations

import re

from flask import Flask

from .conftest import Account
from .media_support import noisy_png
from .test_uploads import upload


def test_files_for_shared_caches_carry_no_session_cookie(app: Flask, alice: Account) -> None:
    page = alice.client.get("/alice").get_data(as_text=True)
    stylesheet = re.search(r'href="(/static/css/[^"]+\.[0-9a-f]{12}\.css)"', page)
    assert stylesheet, page
    assert upload(alice, noisy_png(seed=3), "me.png").status_code == 302
    image = re.search(
        r'src="(?:https?://[^/"]+)?(/media/[^"]+)"', alice.client.get("/alice").get_data(as_text=True)
    )
    assert image
    for path in (stylesheet.group(1), image.group(1), "/favicon.ico"):
        response = alice.client.get(path)
        assert response.status_code == 200, path
        assert "public" in response.headers["Cache-Control"], path
        assert "Set-Cookie" not in response.headers, path
        assert "Cookie" not in response.headers.get("Vary", ""), path
    assert "Set-Cookie" in alice.client.get("/dashboard").headers  # her own pages keep the session alive


def test_an_upload_is_refused_to_if_match_of_another_version(app: Flask, alice: Account) -> None:
    """An upload's answer names no version (no ETag): If-Match with tags is false of it (RFC 9110)."""
    assert upload(alice, noisy_png(seed=4), "me.png").status_code == 302
    image = re.search(
        r'src="(?:https?://[^/"]+)?(/media/[^"]+)"', alice.client.get("/alice").get_data(as_text=True)
    )
    assert image
    visitor = app.test_client()
    assert visitor.get(image.group(1)).status_code == 200
    refused = visitor.get(image.group(1), headers={"If-Match": '"zz"'})
    assert refused.status_code == 412 and refused.mimetype == "text/plain"
