"""Link icons: the brand found from a link's domain, drawn from the one sprite with a name screen readers
need; an uploaded thumbnail re-encoded through IOUtils; the public page's budget with icons and locks."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from conexoos.app.utils.icon_networks import NETWORKS
from conexoos.app.utils.link_icons import network_for_url
from tests.support.services import REQUIRE_SERVICES
from tests.support.static_urls import SHARE_SCRIPT, scripts_of, unhashed

from .conftest import Account
from .test_products_api import png_bytes
from .test_public_page import BUDGET_BYTES, selects, statements_of

pytestmark = pytest.mark.database_matrix

SPRITE = Path(__file__).resolve().parents[2] / "src/conexoos/app/static/img/icons.svg"
DETECTED = {
    "https://instagram.com/ana": "instagram",
    "https://www.instagram.com/ana/": "instagram",
    "https://m.youtube.com/@ana": "youtube",
    "https://youtu.be/dQw4w9WgXcQ": "youtube",
    "https://WWW.YouTube.COM./watch?v=1": "youtube",
    "https://twitter.com/ana": "x",
    "https://x.com/ana": "x",
    "https://vm.tiktok.com/ZMabc/": "tiktok",
    "https://open.spotify.com/artist/1": "spotify",
    "https://music.apple.com/us/artist/1": "applemusic",
    "https://ana.substack.com/": "substack",
    "https://ana.bandcamp.com/album/x": "bandcamp",
    "https://t.me/ana": "telegram",
    "https://wa.me/34600000000": "whatsapp",
    "https://ko-fi.com/ana": "kofi",
    "https://bsky.app/profile/ana.bsky.social": "bluesky",
    "https://www.linkedin.com/in/ana": "linkedin",
    "http://github.com/ana": "github",
}
NOT_DETECTED = [
    "https://instagram.com.evil.example/ana",
    "https://notinstagram.com/ana",
    "https://apple.com/",
    "https://example.com/instagram.com",
    "mailto:ana@instagram.com",
    "tel:+34600000000",
    "https://[::1/",
    "https://com/",
]


def test_the_brand_is_found_from_the_domain() -> None:
    found = {url: getattr(network_for_url(url), "key", None) for url in DETECTED}
    assert found == DETECTED
    assert [url for url in NOT_DETECTED if network_for_url(url) is not None] == []


def test_every_network_has_its_symbol_in_the_sprite() -> None:
    sprite = SPRITE.read_text("utf-8")
    symbols = set(re.findall(r'<symbol id="([a-z0-9-]+)"', sprite))
    assert {network.symbol for network in NETWORKS.values()} <= symbols
    assert "cx-lock" in symbols and len(NETWORKS) >= 60
    assert "<script" not in sprite and "href" not in sprite


def test_icons_are_named_only_when_the_title_does_not_say_the_network(
    alice: Account, client: FlaskClient
) -> None:
    alice.add_link("Follow me", "https://www.instagram.com/ana")
    alice.add_link("My YouTube channel", "https://youtu.be/x")
    alice.add_link("Blog", "https://blog.example/")
    html = unhashed(client.get(f"/{alice.username}").get_data(as_text=True))
    named = re.search(
        r'<a class="link"[^>]*><svg class="link-icon"[^>]*role="img" aria-label="Instagram"[^>]*>'
        r'<use href="/static/img/icons.svg#si-instagram"/></svg>Follow me</a>',
        html,
    )
    assert named, html
    assert re.search(
        r'<svg class="link-icon"[^>]*aria-hidden="true"><use href="[^"]*#si-youtube"/></svg>My YouTube', html
    )
    assert '">Blog</a>' in html  # no icon, no extra markup


def test_locked_links_are_marked_in_words(alice: Account, client: FlaskClient) -> None:
    alice.add_link("Members", "https://members.example/", passcode="open sesame")
    alice.add_link("Late show", "https://late.example/", sensitive=True)
    html = client.get(f"/{alice.username}").get_data(as_text=True)
    assert re.search(r'#cx-lock"/></svg><span class="sr">Needs a password: </span></span>Members</a>', html)
    assert "Asks first, may be for adults: </span></span>Late show</a>" in html


def test_titles_stay_escaped_beside_icons(alice: Account, client: FlaskClient) -> None:
    alice.add_link('<img src=x onerror=alert(1)> "Insta"', "https://instagram.com/ana", sensitive=True)
    html = client.get(f"/{alice.username}").get_data(as_text=True)
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; &#34;Insta&#34;</a>" in html


def test_page_with_icons_and_locks_keeps_its_budgets(app: Flask, alice: Account, client: FlaskClient) -> None:
    networks = list(NETWORKS.values())
    for n in range(10):  # the plan's limit
        network = networks[n]
        alice.add_link(
            f"Link number {n} " + "x" * 60, f"https://{network.domains[0]}/{'p' * 300}", sensitive=n % 2 == 0
        )
    assert len(selects(statements_of(app, client, f"/{alice.username}"))) <= 2
    response = client.get(f"/{alice.username}")
    html = response.get_data(as_text=True)
    assert html.count('class="link-icon"') == 10 and html.count('class="link-lock"') == 5
    assert scripts_of(html) == [SHARE_SCRIPT]
    css = client.get("/static/css/public.css").get_data()
    total = len(response.get_data()) + len(css)
    assert total < BUDGET_BYTES, f"{total} bytes of HTML + CSS"


def upload_icon(account: Account, link_id: int, data: bytes, name: str = "icon.png") -> object:
    return account.api(
        "POST",
        f"/api/link/{link_id}/icon",
        data={"icon": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_a_thumbnail_is_re_encoded_shown_and_removed(
    app: Flask, alice: Account, bob: Account, client: FlaskClient
) -> None:
    link = alice.add_link("Shop", "https://www.instagram.com/ana")
    original = png_bytes((300, 200))
    response = upload_icon(alice, link["id"], original)
    assert response.status_code == 200, response.get_data(as_text=True)  # type: ignore[attr-defined]
    body = response.get_json()  # type: ignore[attr-defined]
    assert body["network"] == "instagram" and body["thumbnail"].startswith(
        "http://localhost/media/img/link-icons/"
    )
    served = client.get(body["thumbnail"].removeprefix("http://localhost"))
    assert served.status_code == 200 and served.data != original
    with Image.open(io.BytesIO(served.data)) as decoded:
        assert decoded.format == "WEBP" and max(decoded.size) <= 96  # re-encoded and shrunk
    html = client.get(f"/{alice.username}").get_data(as_text=True)
    assert re.search(r'<img class="link-icon" src="/media/img/link-icons/[0-9a-f]+\.webp" alt=""', html)
    assert "si-instagram" not in html  # the thumbnail replaces the brand icon
    assert upload_icon(bob, link["id"], original).status_code == 404  # type: ignore[attr-defined]
    removed = alice.api("DELETE", f"/api/link/{link['id']}/icon")
    assert removed.get_json()["thumbnail"] is None
    assert client.get(body["thumbnail"].removeprefix("http://localhost")).status_code == 404


def test_a_file_that_is_no_image_is_400_and_changes_nothing(alice: Account) -> None:
    link = alice.add_link("Shop", "https://shop.example/")
    response = upload_icon(alice, link["id"], b"<svg onload=alert(1)>", "icon.png")
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert response.get_json()["error"]["field"] == "icon"  # type: ignore[attr-defined]
    missing = alice.api("POST", f"/api/link/{link['id']}/icon", data={}, content_type="multipart/form-data")
    assert missing.status_code in (400, 422)


def test_the_committed_sprite_is_what_the_script_builds() -> None:
    """The sprite, its licence file and the network table are rebuilt from the pinned package and compared."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "tools/icons/node_modules/simple-icons").is_dir():
        message = "simple-icons is not installed (cd tools/icons && npm ci)"
        if REQUIRE_SERVICES:
            pytest.fail(f"{message} (CONEXOOS_REQUIRE_SERVICES=1)")
        pytest.skip(message)
    checked = subprocess.run(
        [sys.executable, str(root / "scripts/build_icon_sprite.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_a_thumbnail_keeps_its_proportions_in_its_box(alice: Account, client: FlaskClient) -> None:
    """A 96x48 upload stays 96x48 and is drawn in a 24x24 box: with the default ``object-fit: fill`` it was
    squashed (outside tester); the whole picture is shown, letterboxed, as a logo should be."""
    link = alice.add_link("Shop", "https://shop.example/")
    assert upload_icon(alice, link["id"], png_bytes((96, 48))).status_code == 200  # type: ignore[attr-defined]
    html = client.get(f"/{alice.username}").get_data(as_text=True)
    assert re.search(r'<img class="link-icon" src="[^"]+" alt="" width="24" height="24">', html)
    css = client.get("/static/css/public.css").get_data(as_text=True)
    found = re.search(r"(?:^|\})\.link-icon\{([^}]*)\}", css, re.M)
    assert found and "object-fit:contain" in found.group(1).split(";"), found
