"""Absolute URLs come from ``SERVER_ENV.PUBLIC_URL``, whatever Host header a client sends.

A forged Host header must not reach a canonical link, a share card, a QR code, a plan-change redirect or
the return addresses handed to Stripe.
"""

from __future__ import annotations

import re
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image

from conexoos.framework.config import deep_merge
from tests.conftest import AppFactory
from tests.support.stripe_standin import StripeStandIn

from .billing_support import PLAN_OVERRIDES, running_standin, stripe_overrides
from .conftest import RATE_LIMITS_OFF, Account, sign_up
from .leaving_support import png_bytes
from .test_dashboard import qr_matches

PUBLIC = "https://links.example.org"
FORGED = {"Host": "evil.example"}


@pytest.fixture
def standin() -> object:
    with running_standin() as server:
        yield server


@pytest.fixture
def app(make_app: AppFactory, standin: StripeStandIn) -> Flask:
    overrides = deep_merge(PLAN_OVERRIDES, stripe_overrides(standin.base_url))
    overrides = deep_merge(overrides, RATE_LIMITS_OFF)
    return make_app(overrides=deep_merge(overrides, {"SERVER_ENV": {"PUBLIC_URL": PUBLIC + "/"}}))


@pytest.fixture
def carol(app: Flask) -> Account:
    """Signed up; her session cookie is also sent to the forged host, as a proxy passing it would."""
    account = sign_up(app, "carol")
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = account.client.get_cookie(name)
    assert cookie is not None
    account.client.set_cookie(name, cookie.value, domain="evil.example")
    return account


def test_public_page_links_use_the_public_url(app: Flask, carol: Account) -> None:
    html = app.test_client().get("/carol", headers=FORGED).get_data(as_text=True)
    assert f'<link rel="canonical" href="{PUBLIC}/carol">' in html
    assert f'<meta property="og:url" content="{PUBLIC}/carol">' in html
    assert re.search(rf'<meta property="og:image" content="{re.escape(PUBLIC)}/[^"]+">', html)
    assert "evil.example" not in html


def share_card_images(html: str) -> dict[str, str]:
    """The page's ``og:image*`` and ``twitter:image`` metas, by name."""
    return dict(re.findall(r'<meta (?:property|name)="((?:og|twitter):image[^"]*)" content="([^"]*)">', html))


def test_a_page_without_an_avatar_shares_a_png_fetchers_read(app: Flask, carol: Account) -> None:
    """Its link-preview image was the default avatar's SVG, which Facebook, X, LinkedIn and Slack ignore
    (outside tester): it is a PNG at the public URL, of the size its metas say, as a fetcher reads it."""
    visitor = app.test_client()
    metas = share_card_images(visitor.get("/carol", headers=FORGED).get_data(as_text=True))
    assert metas["og:image"].startswith(PUBLIC + "/") and metas["twitter:image"] == metas["og:image"]
    fetched = visitor.get(metas["og:image"].removeprefix(PUBLIC), headers=FORGED)
    assert (fetched.status_code, fetched.mimetype) == (200, "image/png")
    with Image.open(BytesIO(fetched.get_data())) as image:
        assert image.format == "PNG" and min(image.size) >= 200  # Facebook's smallest
        assert (metas["og:image:width"], metas["og:image:height"]) == (str(image.width), str(image.height))
    changed = carol.client.post(
        "/dashboard/settings",
        data={
            "csrf_token": carol.csrf,
            "display_name": "",
            "bio": "",
            "avatar": (BytesIO(png_bytes("blue")), "me.png"),
        },
        content_type="multipart/form-data",
    )
    assert changed.status_code == 302
    metas = share_card_images(visitor.get("/carol", headers=FORGED).get_data(as_text=True))
    assert metas["og:image"].startswith(f"{PUBLIC}/media/") and "og:image:width" not in metas  # its own size


def test_the_committed_share_image_is_what_the_script_draws() -> None:
    script = Path(__file__).resolve().parents[2] / "scripts/make_default_avatar_png.py"
    checked = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_qr_code_encodes_the_public_url(carol: Account) -> None:
    response = carol.client.get("/dashboard/qr.png", headers=FORGED)
    image = Image.open(BytesIO(response.get_data()))
    assert qr_matches(image, f"{PUBLIC}/carol")


def test_settings_page_shows_the_public_url(carol: Account) -> None:
    html = carol.client.get("/dashboard/settings", headers=FORGED).get_data(as_text=True)
    assert f">{PUBLIC}/carol</a>" in html and "evil.example" not in html


def test_gratis_redirect_url_uses_the_public_url(carol: Account) -> None:
    response = carol.client.post(
        "/subscriptions/checkout",
        data={"plan_id": "gratis"},
        headers={**FORGED, "X-CSRFToken": carol.csrf, "Accept": "application/json"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"redirect_url": f"{PUBLIC}/subscriptions"}


def test_stripe_return_urls_use_the_public_url(carol: Account, standin: StripeStandIn) -> None:
    headers = {**FORGED, "X-CSRFToken": carol.csrf, "Accept": "application/json"}
    response = carol.client.post("/subscriptions/checkout", data={"plan_id": "pro"}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    [created] = standin.requests_to("POST", "/v1/checkout/sessions")
    assert created.params["success_url"].startswith(f"{PUBLIC}/subscriptions?success=true")
    assert created.params["cancel_url"] == f"{PUBLIC}/subscriptions?canceled=true"
    portal = carol.client.post("/subscriptions/portal", headers=headers)
    assert portal.status_code == 200, portal.get_data(as_text=True)
    [opened] = standin.requests_to("POST", "/v1/billing_portal/sessions")
    assert opened.params["return_url"] == f"{PUBLIC}/subscriptions"
