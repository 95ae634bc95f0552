"""Absolute URLs come from ``SERVER_ENV.PUBLIC_URL``, whatever Host header a client sends.

A forged Host header must not reach a canonical link, a share card, a QR code, a plan-change redirect or
the return addresses handed to Stripe.
"""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from flask import Flask
from PIL import Image

from conexoos.framework.config import deep_merge
from tests.conftest import AppFactory
from tests.support.stripe_standin import StripeStandIn

from .billing_support import PLAN_OVERRIDES, running_standin, stripe_overrides
from .conftest import RATE_LIMITS_OFF, Account, sign_up
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
    assert response.get_json() == {"redirect_url": f"{PUBLIC}/subscriptions?success=true"}


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
