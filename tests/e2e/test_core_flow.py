"""The core flow in Chromium: sign up, add links, drag them into order, share the page, follow a link.

The links point at a tiny second HTTP server started by the test (there is no internet), so following one
proves the browser really left the app through ``/go/<id>`` and landed on the link's own URL.
"""

from __future__ import annotations

import html
import http.server
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from conexoos.app.models.persistent import AnalyticsEvent
from conexoos.app.models.persistent.event import CLICK
from conexoos.framework import db
from tests.app.analytics_support import flush_events
from tests.support.live_server import LiveServer

from .conftest import PHONE_VIEWPORT as PHONE
from .conftest import PageFactory, sign_up

LONGEST_USERNAME = "grace_hopper.longest.username1"  # 30 characters, the most a username may have


@dataclass
class Landing:
    """A stand-in for the sites people link to: answers 200 on any path and remembers what it was asked."""

    url: str
    paths: list[str] = field(default_factory=list)


@pytest.fixture
def landing() -> Iterator[Landing]:
    """Serve recognisable pages on 127.0.0.1 on a free port until the test ends."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            body = (
                f"<!doctype html><title>Landing</title><h1>Landed on {html.escape(self.path)}</h1>".encode()
            )
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # keep the test output to the app's own log

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="landing-server", daemon=True)
    thread.start()
    try:
        yield Landing(url=f"http://127.0.0.1:{server.server_port}", paths=seen)
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def add_link(page: Page, title: str, url: str) -> None:
    """Add a link through the dashboard's form and wait until the list shows it."""
    expect(page.locator("#links")).not_to_have_attribute("aria-busy", "true")  # the rows it has are drawn
    count = page.locator("#links .link-item").count()
    page.get_by_label("Title", exact=True).first.fill(title)
    page.get_by_label("URL", exact=True).first.fill(url)
    with page.expect_response(lambda response: response.url.endswith("/api/add/link")) as answer:
        page.get_by_role("button", name="Add", exact=True).click()
    assert answer.value.status == 201, answer.value.text()
    expect(page.locator("#links .link-item")).to_have_count(count + 1)
    expect(page.locator("#form-error")).to_have_text("")


def expect_titles(page: Page, titles: list[str]) -> None:
    """The dashboard's list shows ``titles``, top to bottom, once its script has drawn the last answer."""
    expect(page.locator("#links .link-item .link-title")).to_have_text(titles)


def drag(
    page: Page,
    title: str,
    onto: str,
    side: Literal["above", "below"],
    list_selector: str = "#links",
    reorder_path: str = "/api/links/reorder",
) -> None:
    """Drag the item titled ``title`` by its grip and drop it just above or below the item titled ``onto``.

    The mouse moves in steps, as a hand does, so the list sees the dragover events along the way; the whole
    list is scrolled into view first so no scrolling moves the items between measuring and dropping.
    """
    items = page.locator(f"{list_selector} .link-item")
    expect(page.locator(list_selector)).not_to_have_attribute("aria-busy", "true")  # no answer redraws it now
    page.locator(list_selector).evaluate("list => list.scrollIntoView({block: 'center'})")
    grip = items.filter(has_text=title).locator(".grip").bounding_box()
    target = items.filter(has_text=onto).bounding_box()
    assert grip is not None and target is not None, f"{title!r} or {onto!r} is not on screen"
    drop_y = target["y"] + (4 if side == "above" else target["height"] - 4)
    with page.expect_response(lambda response: response.url.endswith(reorder_path)) as answer:
        page.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
        page.mouse.down()
        page.mouse.move(target["x"] + target["width"] / 2, drop_y, steps=8)
        page.mouse.up()
    assert answer.value.status == 200, answer.value.text()


def api_titles(page: Page, live: LiveServer) -> list[str]:
    """The titles GET /api/links returns for the page's logged-in user, in order."""
    response = page.request.get(f"{live.url}/api/links", headers={"Accept": "application/json"})
    assert response.status == 200, response.text()
    return [link["title"] for link in response.json()]


def public_titles(page: Page) -> list[str]:
    """The link titles on a public page, top to bottom."""
    return page.locator("ul.links a.link").all_inner_texts()


def assert_fits_phone(page: Page, what: str) -> None:
    """Fail when ``page`` is wider than the phone: it would scroll sideways, or the phone would zoom out.

    A mobile browser widens its layout viewport to fit content that sticks out, so ``innerWidth`` growing
    past the screen is the same defect as ``scrollWidth`` exceeding it.
    """
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    screen = PHONE["width"]
    assert scroll_width <= screen and inner_width == screen, (
        f"{what} is {max(scroll_width, inner_width)} px wide on a {screen} px phone "
        f"(scrollWidth {scroll_width}, innerWidth {inner_width})"
    )


def test_sign_up_add_drag_share_and_follow_a_link(
    live_server: LiveServer,
    landing: Landing,
    new_page: PageFactory,
    snapshot: Callable[[Page, str], Path | None],
) -> None:
    live = live_server
    owner = new_page()
    sign_up(owner, live, "ada.e2e")

    links = {"Blog": "/blog", "Shop": "/shop", "Podcast": "/podcast"}
    for title, path in links.items():
        add_link(owner, title, f"{landing.url}{path}?from=conexoos")
    expect_titles(owner, ["Blog", "Shop", "Podcast"])

    # Two drags that together reverse the list, so no single move or no move could pass.
    drag(owner, "Podcast", onto="Blog", side="above")
    expect_titles(owner, ["Podcast", "Blog", "Shop"])
    drag(owner, "Blog", onto="Shop", side="below")
    expected = ["Podcast", "Shop", "Blog"]
    expect_titles(owner, expected)
    assert api_titles(owner, live) == expected

    owner.reload()
    expect(owner.locator("#links .link-item")).to_have_count(3)
    expect_titles(owner, expected)
    snapshot(owner, "dashboard")

    # The owner's own "My page" link, then the same page as a visitor with no session.
    owner.get_by_role("link", name="My page").click()
    expect(owner).to_have_url(f"{live.url}/ada.e2e")
    assert public_titles(owner) == expected

    visitor = new_page()
    visitor.goto(f"{live.url}/ada.e2e")
    expect(visitor.get_by_role("heading", level=1)).to_be_visible()
    assert public_titles(visitor) == expected
    snapshot(visitor, "public")

    shop = visitor.get_by_role("link", name="Shop")
    href = shop.get_attribute("href") or ""
    assert href.startswith("/go/"), href
    link_id = int(href.removeprefix("/go/"))
    shop.click()
    expect(visitor).to_have_url(f"{landing.url}/shop?from=conexoos")
    expect(visitor.get_by_role("heading", name="Landed on /shop?from=conexoos")).to_be_visible()
    assert [path for path in landing.paths if path != "/favicon.ico"] == ["/shop?from=conexoos"]

    flush_events(live.app)  # the live server flushes every 0.2 s; this makes the read not depend on when
    with live.app.app_context():
        query = select(AnalyticsEvent).where(AnalyticsEvent.kind == CLICK)
        clicks = db.session.execute(query).scalars().all()
        recorded = [(click.link_id, click.referrer_host, click.device) for click in clicks]
    assert recorded == [(link_id, "127.0.0.1", "desktop")]


def test_phone_sized_dashboard_and_public_page_fit_the_screen(
    live_server: LiveServer,
    landing: Landing,
    new_page: PageFactory,
    snapshot: Callable[[Page, str], Path | None],
) -> None:
    live = live_server
    phone = new_page(phone=True)
    sign_up(phone, live, LONGEST_USERNAME)
    # What people really paste: a long unbroken URL, and sometimes the URL again as the title.
    long_url = f"{landing.url}/{'very-long-path-segment-' * 8}end?utm_source=newsletter&utm_campaign=spring"
    add_link(phone, "My newsletter archive with every issue since the start", long_url)
    add_link(phone, long_url, long_url)
    add_link(phone, "Contact", "mailto:grace@example.com")

    assert_fits_phone(phone, "the dashboard")
    overflowing = phone.locator("#links .link-item").evaluate_all(
        "items => items.filter(item => item.scrollWidth > item.clientWidth).map(item => item.dataset.id)"
    )
    assert overflowing == [], f"the text of links {overflowing} sticks out of their cards"
    snapshot(phone, "dashboard")

    phone.goto(f"{live.url}/{LONGEST_USERNAME}")
    anchors = phone.locator("ul.links a.link")
    expect(anchors).to_have_count(3)
    assert_fits_phone(phone, "the public page")
    snapshot(phone, "public")
    for anchor in anchors.all():
        box = anchor.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert box["height"] >= 44, f"a link is too small to tap: {box}"
        font_size = anchor.evaluate("element => parseFloat(getComputedStyle(element).fontSize)")
        assert font_size >= 16, f"link text of {font_size}px is too small to read on a phone"
