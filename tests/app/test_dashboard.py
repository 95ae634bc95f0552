"""The dashboard pages and the QR code of the public page."""

from __future__ import annotations

import re
from io import BytesIO
from xml.etree import ElementTree

import pytest
import segno
from flask.testing import FlaskClient
from PIL import Image

from conexoos.app.models.persistent import User

from .conftest import Account


def qr_matches(image: Image.Image, content: str) -> bool:
    """Whether ``image`` is the QR symbol of ``content`` (module by module, at any scale and quiet zone)."""
    matrix = segno.make(content, error="m").matrix
    modules = len(matrix)
    image = image.convert("L")
    width, height = image.size
    pixels = image.load()
    assert pixels is not None
    if width != height:
        return False
    for border in range(0, 9):
        scale, remainder = divmod(width, modules + 2 * border)
        if remainder or scale < 1:
            continue
        centres = [(index + border) * scale + scale // 2 for index in range(modules)]
        if all(
            (pixels[centres[column], centres[row]] < 128) == bool(matrix[row][column])  # type: ignore[operator]
            for row in range(modules)
            for column in range(modules)
        ):
            return True
    return False


def test_qr_png_encodes_the_public_page(alice: Account) -> None:
    response = alice.client.get("/dashboard/qr.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert "attachment" in response.headers["Content-Disposition"]
    image = Image.open(BytesIO(response.get_data()))
    image.load()
    assert image.format == "PNG"
    assert qr_matches(image, f"http://localhost/{alice.username}")
    assert not qr_matches(image, "http://localhost/someone_else")


def test_qr_svg_is_an_svg_document(alice: Account) -> None:
    response = alice.client.get("/dashboard/qr.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(response.get_data())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find(".//{http://www.w3.org/2000/svg}path") is not None
    assert b"<script" not in response.get_data()


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_qr_codes_need_a_login(client: FlaskClient, kind: str) -> None:
    response = client.get(f"/dashboard/qr.{kind}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_qr_other_formats_are_404(alice: Account) -> None:
    assert alice.client.get("/dashboard/qr.gif").status_code == 404


def test_dashboard_links_the_public_page_and_its_qr_codes(alice: Account) -> None:
    html = alice.client.get("/dashboard").get_data(as_text=True)
    assert f'href="http://localhost/{alice.username}"' in html
    assert 'src="/dashboard/qr.svg"' in html
    assert 'href="/dashboard/qr.png"' in html
    assert 'data-api="/api/links"' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html


def test_settings_page_shows_the_form_with_its_token(alice: Account) -> None:
    response = alice.client.get("/dashboard/settings")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    for name in ("csrf_token", "display_name", "bio", "avatar"):
        assert f'name="{name}"' in html
    assert 'src="/dashboard/qr.svg"' in html


def test_the_avatar_input_offers_only_the_image_types_accepted(alice: Account) -> None:
    """The file picker offered every file, unlike the site's other image inputs (outside tester)."""
    html = alice.client.get("/dashboard/settings").get_data(as_text=True)
    avatar = re.search(r'<input[^>]*name="avatar"[^>]*>', html)
    assert avatar and 'accept="image/png,image/jpeg,image/webp,image/gif"' in avatar.group(0)


def test_a_bio_over_300_characters_is_refused(alice: Account) -> None:
    response = alice.client.post(
        "/dashboard/settings", data={"csrf_token": alice.csrf, "display_name": "A", "bio": "b" * 301}
    )
    assert response.status_code == 422
    assert "b" * 301 not in alice.client.get(f"/{alice.username}").get_data(as_text=True)
    ok = alice.client.post(
        "/dashboard/settings", data={"csrf_token": alice.csrf, "display_name": "A", "bio": "b" * 300}
    )
    assert ok.status_code == 302
    assert "b" * 300 in alice.client.get(f"/{alice.username}").get_data(as_text=True)


def test_a_bios_line_breaks_are_kept_as_newlines(alice: Account) -> None:
    """A browser sends a textarea's line breaks as CRLF: the bio kept them so (the export showed them),
    unlike every other text with line breaks."""
    saved = alice.client.post(
        "/dashboard/settings",
        data={"csrf_token": alice.csrf, "display_name": "A", "bio": "one\r\ntwo\rthree"},
    )
    assert saved.status_code == 302
    app = alice.client.application
    with app.app_context():
        user = User.get_by_username(alice.username)
        assert user is not None and user.bio == "one\ntwo\nthree"


def test_a_bio_is_measured_as_the_textarea_measures_it(alice: Account) -> None:
    """300 characters with line breaks, as the browser's maxlength counts them: each break was counted
    twice (CRLF), and the form refused what the textarea allowed (outside tester)."""
    bio = "\r\n".join(["x" * 9] * 30)  # 299 characters with \n breaks, 328 as sent
    saved = alice.client.post(
        "/dashboard/settings", data={"csrf_token": alice.csrf, "display_name": "A", "bio": bio}
    )
    assert saved.status_code == 302
