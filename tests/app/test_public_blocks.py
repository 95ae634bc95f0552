"""The public page drawn from blocks: every kind in page order, escaped, in two queries and 30 KB."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import AppFactory
from tests.support.static_urls import SHARE_SCRIPT, scripts_of

from .billing_support import PLAN_OVERRIDES, visit
from .capture_support import post as capture_post
from .conftest import BROWSER_UA, Account
from .test_public_page import BUDGET_BYTES, selects, shown_links, statements_of

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB

BOOK = {"title": "E-book", "price": 1250, "currency": "EUR", "buy_url": "https://shop.example/book"}
XSS = '<script>alert(1)</script><img src=x onerror="alert(2)">&amp;'
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&#34;alert(2)&#34;&gt;&amp;amp;"
MARKERS = re.compile(r'class="(link|product|block-header|block-text|block-divider)"')


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    """The product with the test plans (Gratis: three links, two products)."""
    return make_app(overrides=PLAN_OVERRIDES)


def add(account: Account, kind: str, **fields: Any) -> dict[str, Any]:
    response = account.api("POST", "/api/blocks", {"kind": kind, **fields})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def page_of(client: FlaskClient, account: Account) -> str:
    response = visit(client, f"/{account.username}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def every_kind(account: Account) -> None:
    """A page with a block of every kind, the kinds interleaved."""
    add(account, "header", title="Talks")
    account.add_link("First talk", "https://example.com/1")
    add(account, "text", text="Slides and videos.\nMore soon.")
    add(account, "divider")
    add(account, "product", **BOOK)
    account.add_link("Second talk", "https://example.com/2")


def test_blocks_of_every_kind_are_drawn_in_page_order(alice: Account, client: FlaskClient) -> None:
    every_kind(alice)
    html = page_of(client, alice)
    assert MARKERS.findall(html) == ["block-header", "link", "block-text", "block-divider", "product", "link"]
    assert [title for _, title in shown_links(html)] == ["First talk", "Second talk"]
    assert '<h2 class="block-header" dir="auto">Talks</h2>' in html
    assert '<p class="block-text" dir="auto">Slides and videos.\nMore soon.</p>' in html  # breaks kept by CSS
    assert "No links yet." not in html


def test_a_hidden_block_is_left_out_and_comes_back(alice: Account, client: FlaskClient) -> None:
    header = add(alice, "header", title="Secret section", enabled=False)
    assert "Secret section" not in page_of(client, alice)
    alice.api("PATCH", f"/api/blocks/{header['id']}", {"enabled": True})
    assert "Secret section" in page_of(client, alice)


def test_every_new_field_is_escaped(alice: Account, client: FlaskClient) -> None:
    add(alice, "header", title=XSS)
    add(alice, "text", text=XSS + "\n" + XSS)
    html = page_of(client, alice)
    assert "<script>" not in html and 'onerror="' not in html
    assert html.count(ESCAPED) == 3
    api = alice.api("GET", "/api/blocks").get_json()
    assert [block.get("title") or block.get("text") for block in api] == [XSS, XSS + "\n" + XSS]


def test_links_past_the_plan_are_hidden_in_page_order(alice: Account, client: FlaskClient) -> None:
    for number in range(3):  # Gratis: three links
        alice.add_link(f"Link {number}", f"https://example.com/{number}")
    ids = [block["id"] for block in alice.api("GET", "/api/blocks").get_json()]
    alice.api("POST", "/api/blocks/reorder", {"ids": ids[::-1]})
    assert [title for _, title in shown_links(page_of(client, alice))] == ["Link 2", "Link 1", "Link 0"]


def test_the_product_image_is_shown_whole(client: FlaskClient) -> None:
    css = client.get("/static/css/public.css").get_data(as_text=True)
    rule = re.search(r"\.product img\{([^}]*)\}", css)
    assert rule is not None
    declarations = dict(part.split(":", 1) for part in rule.group(1).split(";") if part)
    assert declarations["object-fit"] == "contain"  # never cropped
    assert declarations["height"] == "auto"  # the height="300" attribute no longer stretches the box
    assert declarations["aspect-ratio"] == "1"


def test_a_page_of_every_kind_runs_two_selects(app: Flask, alice: Account, client: FlaskClient) -> None:
    every_kind(alice)
    for number in range(5):
        add(alice, "header", title=f"Header {number}")
        add(alice, "text", text=f"Text {number}")
    statements = statements_of(app, client, f"/{alice.username}")
    assert len(selects(statements)) <= 2, "\n".join(selects(statements))


def test_a_full_page_of_every_kind_stays_under_30_kb(alice: Account, client: FlaskClient) -> None:
    for number in range(3):
        alice.add_link(
            f"A fairly long link title number {number} " + "x" * 60, "https://example.com/" + "p" * 400
        )
    for _ in range(2):
        add(alice, "product", **{**BOOK, "description": "d" * 300})
    for _ in range(5):
        add(alice, "header", title="H" * 100)
        add(alice, "text", text="t " * 300)
        add(alice, "divider")
    response = visit(client, f"/{alice.username}")
    html = response.get_data(as_text=True)
    assert html.count('class="block-text"') == 5 and scripts_of(html) == [SHARE_SCRIPT]
    stylesheets = re.findall(r'<link rel="stylesheet" href="(?:http://localhost)?([^"]+)"', html)
    css = b"".join(client.get(path).get_data() for path in stylesheets)
    total = len(response.get_data()) + len(css)
    assert total < BUDGET_BYTES, f"{total} bytes of HTML + CSS"


HEBREW = re.compile(r"[\u0590-\u05ff]")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class DirectionOfTexts(HTMLParser):
    """Each text holding Hebrew letters, with whether an element around it sets its own direction
    (``dir="auto"`` or ``<bdi>``): without one it is laid out in the page's left-to-right order."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, bool]] = []
        self.texts: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.open.append((tag, tag == "bdi" or ("dir", "auto") in attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        tags = [tag for tag, _ in self.open]
        if HEBREW.search(data) and "title" not in tags:  # the document's title has no direction of its own
            self.texts.append((data.strip(), any(isolated for _, isolated in self.open)))


def texts_without_direction(html: str) -> list[str]:
    parser = DirectionOfTexts()
    parser.feed(html)
    assert parser.texts, "no Hebrew text on the page"
    return [text for text, isolated in parser.texts if not isolated]


def test_right_to_left_texts_are_laid_out_in_their_own_direction(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    """Arabic or Hebrew texts of creators were drawn in the wrong order: nothing said their direction
    (outside tester). Each element holding a creator's text has ``dir="auto"`` (a text inside a sentence
    of the site's is a ``<bdi>``), on the page, the lock page and a sign-up's answers."""
    settings = {"csrf_token": alice.csrf, "display_name": "עלמה כהן", "bio": "אני מצלמת, 3 ספרים."}
    assert alice.client.post("/dashboard/settings", data=settings).status_code == 302
    add(alice, "header", title="ההרצאות שלי")
    add(alice, "text", text="שקפים וסרטונים.\nעוד בקרוב!")
    locked = alice.add_link("החנות (2024)", "https://example.com/shop", sensitive=True)
    alice.add_link("Mixed: שלום world", "https://example.com/2")
    add(alice, "product", **{**BOOK, "title": "ספר אלקטרוני", "description": "מהדורה 2, 120 עמודים"})
    add(alice, "embed", url="https://youtu.be/dQw4w9WgXcQ", title="השיר החדש")
    form = add(alice, "capture", title="המכתב החודשי", button="הרשמה")
    html = page_of(client, alice)
    assert texts_without_direction(html) == []
    # The lock mark's words are English: its own direction, not the guess of the title's.
    assert '<span class="link-lock" dir="ltr">' in html
    lock = client.get(f"/go/{locked['id']}", headers={"User-Agent": BROWSER_UA}).get_data(as_text=True)
    assert texts_without_direction(lock) == []
    thanks = capture_post(client, form["id"], email="ana@example.com").get_data(as_text=True)
    refused = capture_post(client, form["id"], email="not an address").get_data(as_text=True)
    assert texts_without_direction(thanks) == [] and texts_without_direction(refused) == []
    # Where the creator types them, too: the profile form, the new link and the blocks' text fields.
    profile = alice.client.get("/dashboard/settings").get_data(as_text=True)
    for name in ("display_name", "bio"):
        tag = re.search(rf'<(?:input|textarea)[^>]*id="{name}"[^>]*>', profile)
        assert tag and 'dir="auto"' in tag.group(0), name
    dashboard = alice.client.get("/dashboard").get_data(as_text=True)
    assert re.search(r'<input id="new-title"[^>]*dir="auto"', dashboard)
    assert re.search(r'<textarea[^>]*data-control="textarea"[^>]*dir="auto"', dashboard)
