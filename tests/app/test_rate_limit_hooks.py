"""Flask-Limiter's before-request check runs only where a limit may apply (``extensions.py``): every limit
an operator or a view declares still holds on Flask's path."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.conftest import AppFactory

from .conftest import BROWSER_UA, product_app

LIMITS_ON = {"RATELIMIT_ENABLED": True}
PAGE_CACHE_OFF = {"APP": {"PAGE_CACHE": {"ENABLED": False}}}  # every page through Flask's own path


def limited_app(make_app: AppFactory, **limits: Any) -> Flask:
    return product_app(make_app, {"FLASK": {"CONFIG": {**LIMITS_ON, **limits}}, **PAGE_CACHE_OFF})


def statuses(app: Flask, path: str, count: int) -> list[int]:
    client = app.test_client()
    return [client.get(path, headers={"User-Agent": BROWSER_UA}).status_code for _ in range(count)]


@pytest.mark.parametrize("key", ["RATELIMIT_APPLICATION", "RATELIMIT_DEFAULT"])
def test_an_application_or_default_limit_holds_on_the_public_page(make_app: AppFactory, key: str) -> None:
    app = limited_app(make_app, **{key: "2 per minute"})
    assert statuses(app, "/nobody", 3) == [404, 404, 429]  # a public page's URL; no sign-up to count


def test_a_limit_on_a_view_holds(make_app: AppFactory) -> None:
    app = limited_app(make_app)
    limiter = app.extensions["conexoos_limiter"]
    app.view_functions["public.robots"] = limiter.limit("2 per minute")(app.view_functions["public.robots"])
    assert statuses(app, "/robots.txt", 3) == [200, 200, 429]
