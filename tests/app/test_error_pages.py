"""The product's error pages (400, 403, 404, 405, 429, 500) wear the site's layout and stylesheet, with no
inline style for the Content-Security-Policy to block; JSON clients still get the JSON error."""

from __future__ import annotations

import re

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient

from conexoos.app.blueprints import setup as setup_blueprint
from conexoos.app.controllers import setup as setup_controller
from tests.support.static_urls import unhashed

from .conftest import Account, product_app

pytestmark = pytest.mark.database_matrix

STATUSES = (400, 403, 404, 405, 429, 500)
TITLES = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


@pytest.fixture
def app(make_app: object) -> Flask:
    """The product, with a route answering each status through the real error handlers (a 500 too: the
    exception is handled, not propagated to the test)."""
    built = product_app(make_app)  # type: ignore[arg-type]
    built.config["PROPAGATE_EXCEPTIONS"] = False

    def fail(code: int) -> str:
        if code == 500:
            raise RuntimeError("an unexpected failure with internals: /srv/secret")
        abort(code)

    built.add_url_rule("/test-only/fail/<int:code>", "test_only_fail", fail)
    return built


def assert_in_the_layout(html: str, status: int) -> None:
    html = unhashed(html)
    assert '<link rel="stylesheet" href="/static/css/app.css">' in html
    assert '<header class="topbar">' in html and '<main class="container"' in html
    assert f'<span class="error-status">{status}</span> {TITLES[status]}' in html
    assert "<style" not in html and not re.search(r"\sstyle=", html)  # nothing for the CSP to block


@pytest.mark.parametrize("status", STATUSES)
def test_each_status_renders_in_the_site_layout(client: FlaskClient, status: int) -> None:
    response = client.get(f"/test-only/fail/{status}")
    assert response.status_code == status and response.mimetype == "text/html"
    assert "style-src 'self';" in response.headers["Content-Security-Policy"]
    assert_in_the_layout(response.get_data(as_text=True), status)
    if status == 500:
        assert "/srv/secret" not in response.get_data(as_text=True)


@pytest.mark.parametrize("status", STATUSES)
def test_json_clients_still_get_json(client: FlaskClient, status: int) -> None:
    response = client.get(f"/test-only/fail/{status}", headers={"Accept": "application/json"})
    assert response.status_code == status and response.mimetype == "application/json"
    assert set(response.get_json()["error"]) == {"code", "message", "field"}


def test_real_errors_wear_the_layout(alice: Account, client: FlaskClient) -> None:
    assert_in_the_layout(client.get("/no/such/page").get_data(as_text=True), 404)
    missing_token = client.post("/login", data={"login": "x", "password": "y"})
    assert missing_token.status_code == 400
    assert_in_the_layout(missing_token.get_data(as_text=True), 400)
    assert "security token" in missing_token.get_data(as_text=True)
    not_allowed = alice.client.post("/", data={"csrf_token": alice.csrf})
    assert not_allowed.status_code == 405
    html = not_allowed.get_data(as_text=True)
    assert_in_the_layout(html, 405)
    assert 'href="/dashboard/settings"' in html  # the signed-in person's navigation, as on any page


def test_an_error_page_leaves_the_flashed_messages_to_the_next_page(app: Flask, alice: Account) -> None:
    """A 404 beside a save's redirect (a browser's icon request, a missing image, another tab) neither
    shows nor uses up the message the save left for the page it redirects to."""
    with alice.client.session_transaction() as session:
        session["_flashes"] = [("message", "Appearance saved.")]
    missing = alice.client.get("/apple-touch-icon.png")
    assert missing.status_code == 404 and "Appearance saved." not in missing.get_data(as_text=True)
    page = alice.client.get("/settings/appearance")
    assert page.status_code == 200 and "Appearance saved." in page.get_data(as_text=True)


def test_an_untrusted_host_is_a_400_page_not_a_500(make_app: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """The error page's url_for (and, while /setup waits, the setup notice's external_url at a process's
    first request) had no URL adapter for a host Flask refused: a 500 with a traceback. JSON got its 400."""
    built = product_app(make_app, {"FLASK": {"CONFIG": {"TRUSTED_HOSTS": ["localhost"]}}})  # type: ignore[arg-type]
    built.config["PROPAGATE_EXCEPTIONS"] = False
    with built.app_context():
        assert setup_controller.available()
    monkeypatch.setitem(setup_blueprint._announced, "done", False)  # the next request is the first
    client = built.test_client()
    first = client.get("/", headers={"Host": "evil.example"})
    assert first.status_code == 400 and first.mimetype == "text/html", first.get_data(as_text=True)[:300]
    assert not setup_blueprint._announced["done"]  # said at the next request of a trusted host
    for accept in ("text/html", "*/*", "application/json"):
        refused = client.get("/login", headers={"Host": "evil.example", "Accept": accept})
        assert refused.status_code == 400, (accept, refused.get_data(as_text=True)[:300])
    page = client.get("/no/such/page", headers={"Host": "evil.example:80"}).get_data(as_text=True)
    assert "<h1>400 Bad Request</h1>" in page and "&#39;evil.example&#39; is not trusted" in page
    assert client.get("/").status_code == 200
