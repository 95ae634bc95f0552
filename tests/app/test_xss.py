"""Script in a title, display name or bio is shown as text everywhere, never run."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from markupsafe import escape

import conexoos.app
from tests.support.static_urls import unhashed

from .conftest import Account, form_token

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE_BREAKER = '"><img src=x onerror=alert(1)>'
PAYLOADS = [
    pytest.param(SCRIPT, id="script"),
    pytest.param(ATTRIBUTE_BREAKER, id="attribute-breaker"),
    pytest.param("'><svg onload=alert(1)>", id="single-quote-breaker"),
]


class Elements(HTMLParser):
    """Every start tag of a page, with its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def assert_inert(html: str, payload: str, allowed_scripts: tuple[str, ...] = ()) -> None:
    """``payload`` appears only escaped: no raw copy, no element or event handler it could have made."""
    assert payload not in html
    parser = Elements()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert not any(name.startswith("on") for name in attrs), f"event handler on <{tag}>: {attrs}"
        assert tag not in ("svg", "iframe", "object", "embed"), f"unexpected <{tag}>"
        if tag == "img":
            assert attrs.get("src") != "x"
        if tag == "script":
            source = unhashed(attrs.get("src") or "")  # /static/js/api.<hash>.js: /static/js/api.js
            assert source.endswith(allowed_scripts) if allowed_scripts else False, (
                f"unexpected <script {attrs}>"
            )


def save_profile(account: Account, display_name: str, bio: str) -> None:
    response = account.client.post(
        "/dashboard/settings", data={"csrf_token": account.csrf, "display_name": display_name, "bio": bio}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


PUBLIC_PAGE_SCRIPTS = ("/static/js/share.js",)
"""The public page's one script, the Web Share button's (the page needs none of it)."""


@pytest.mark.parametrize("payload", PAYLOADS)
def test_public_page_escapes_title_display_name_and_bio(
    alice: Account, client: FlaskClient, payload: str
) -> None:
    link = alice.add_link(payload, "https://example.com/")
    assert link["title"] == payload  # stored as typed: escaping is the renderer's job
    save_profile(alice, payload, f"bio {payload}")
    response = client.get(f"/{alice.username}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert_inert(html, payload, allowed_scripts=PUBLIC_PAGE_SCRIPTS)
    escaped = escape(payload)
    assert f">{escaped}</a>" in html  # the link title, as text
    assert f'<h1 dir="auto">{escaped}</h1>' in html  # the display name
    assert f"bio {escaped}" in html  # the bio
    assert f'content="{escaped}"' in html  # og:title / twitter:title attributes stay closed


@pytest.mark.parametrize("payload", PAYLOADS)
def test_dashboard_never_renders_the_raw_title(alice: Account, payload: str) -> None:
    """The dashboard fills titles in with textContent from the API: the API gives the raw string,
    and the server-rendered HTML never holds it unescaped."""
    alice.add_link(payload, "https://example.com/")
    save_profile(alice, payload, payload)
    assert [link["title"] for link in alice.links()] == [payload]
    html = alice.client.get("/dashboard").get_data(as_text=True)
    assert_inert(
        html,
        payload,
        allowed_scripts=(
            "/static/js/api.js",
            "/static/js/feedback.js",
            "/static/js/money.js",
            "/static/js/sortable.js",
            "/static/js/editable_list.js",
            "/static/js/dashboard.js",
            "/static/js/blocks.js",
            "/static/js/nav_menu.js",
        ),
    )


SCRIPTS = sorted(path.name for path in (Path(conexoos.app.__file__).parent / "static" / "js").glob("*.js"))
"""Every script the product ships; a new one is checked without being listed here."""
HTML_SINKS = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write")


@pytest.mark.parametrize("name", SCRIPTS)
def test_scripts_never_parse_strings_as_html(client: FlaskClient, name: str) -> None:
    assert {"api.js", "sortable.js", "editable_list.js", "dashboard.js", "products.js"} <= set(SCRIPTS)
    response = client.get(f"/static/js/{name}")
    assert response.status_code == 200
    script = response.get_data(as_text=True)
    assert [sink for sink in HTML_SINKS if sink in script] == []


def test_dashboard_scripts_fill_titles_with_text_content(client: FlaskClient) -> None:
    links = client.get("/static/js/dashboard.js").get_data(as_text=True)
    assert '.link-title").textContent = link.title' in links
    products = client.get("/static/js/products.js").get_data(as_text=True)
    assert '.link-title").textContent = product.title' in products
    assert "form.elements.description.value = product.description" in products


@pytest.mark.parametrize("payload", PAYLOADS)
def test_product_title_and_description_are_escaped_on_the_page_and_the_dashboard(
    alice: Account, client: FlaskClient, payload: str
) -> None:
    product = {"price": 100, "currency": "EUR", "buy_url": "https://shop.example/"}
    response = alice.api("POST", "/api/add/product", {**product, "title": payload, "description": payload})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["title"] == payload  # stored as typed
    html = client.get(f"/{alice.username}").get_data(as_text=True)
    assert_inert(html, payload, allowed_scripts=PUBLIC_PAGE_SCRIPTS)
    assert f'<span class="product-title" dir="auto">{escape(payload)}</span>' in html
    assert f'<span class="product-description" dir="auto">{escape(payload)}</span>' in html
    dashboard = alice.client.get("/dashboard/products").get_data(as_text=True)
    names = (
        "api.js",
        "feedback.js",
        "money.js",
        "sortable.js",
        "editable_list.js",
        "products.js",
        "nav_menu.js",
    )
    scripts = tuple(f"/static/js/{name}" for name in names)
    assert_inert(dashboard, payload, allowed_scripts=scripts)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_settings_page_escapes_display_name_and_bio(alice: Account, payload: str) -> None:
    save_profile(alice, payload, payload)
    html = alice.client.get("/dashboard/settings").get_data(as_text=True)
    assert_inert(html, payload, allowed_scripts=(".js",))
    assert f'value="{escape(payload)}"' in html  # the display name input
    assert f"{escape(payload)}</textarea>" in html  # the bio, as text inside the textarea


@pytest.mark.parametrize("payload", PAYLOADS)
def test_signup_form_echoes_input_escaped(client: FlaskClient, payload: str) -> None:
    token = form_token(client.get("/signup"))
    response = client.post(
        "/signup", data={"csrf_token": token, "email": payload, "username": payload, "password": "x"}
    )
    assert response.status_code == 422
    assert_inert(response.get_data(as_text=True), payload)


def test_unknown_page_does_not_reflect_the_path(client: FlaskClient) -> None:
    response = client.get("/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert response.status_code == 404
    assert SCRIPT not in response.get_data(as_text=True)
