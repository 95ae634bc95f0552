"""Live statistics in Chromium: a visitor's click in one browser reaches the owner's open dashboard.

The owner's statistics page joins its Socket.IO room; a logged-out visitor in another browser context (its
own cookies, a normal desktop user agent, so it is neither the owner nor a bot) opens the public page and
clicks a link. The dashboard's counters must change from 0 to 1 in the same document, with no reload.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.app.analytics_support import flush_events
from tests.support.live_server import LiveServer

from .conftest import PageFactory
from .test_core_flow import add_link, sign_up
from .test_products_dashboard import add_product

OWNER = "lin.live"
LIVE_WAIT_MS = 10_000
"""The most a live update may take to reach the dashboard (it normally takes a few milliseconds)."""


def redirect_id(href: str | None) -> int:
    """The link id in a public page's ``/go/<id>`` href."""
    assert href and href.startswith("/go/"), href
    return int(href.removeprefix("/go/"))


def links_table_row(page: Page, link_id: int) -> list[str]:
    """The cells of a link's row in the statistics page's links table."""
    return page.locator(f'#links-table tr[data-link-id="{link_id}"] td').all_inner_texts()


def test_a_visitor_click_updates_the_open_dashboard_live(
    live_server: LiveServer,
    new_page: PageFactory,
    snapshot: Callable[[Page, str], Path | None],
) -> None:
    live = live_server
    owner = new_page()
    sign_up(owner, live, OWNER)
    # The link leads back to the app's own home page, so following it needs no other server.
    add_link(owner, "Portfolio", f"{live.url}/?from=e2e")
    add_link(owner, "Newsletter", f"{live.url}/?from=e2e-news")

    owner.goto(f"{live.url}/dashboard/stats")
    expect(owner.locator("#live-status")).to_have_text("Live updates: on", timeout=LIVE_WAIT_MS)
    expect(owner.locator("#total-clicks")).to_have_text("0")
    expect(owner.locator("#links-table tr")).to_have_count(2)
    # A mark on this document: a reload or navigation would wipe it.
    owner.evaluate("window.e2eSameDocument = true")

    visitor = new_page()
    visitor.goto(f"{live.url}/{OWNER}")
    portfolio = visitor.get_by_role("link", name="Portfolio")
    link_id = redirect_id(portfolio.get_attribute("href"))
    other_id = redirect_id(visitor.get_by_role("link", name="Newsletter").get_attribute("href"))
    assert links_table_row(owner, link_id)[:2] == ["Portfolio", "0"]

    portfolio.click()
    expect(visitor).to_have_url(f"{live.url}/?from=e2e")

    expect(owner.locator("#total-clicks")).to_have_text("1", timeout=LIVE_WAIT_MS)
    expect(owner.locator(f'#links-table tr[data-link-id="{link_id}"] td').nth(1)).to_have_text("1")
    assert links_table_row(owner, link_id)[:2] == ["Portfolio", "1"]
    assert links_table_row(owner, other_id)[:2] == ["Newsletter", "0"]
    assert owner.evaluate("window.e2eSameDocument === true"), "the dashboard reloaded"
    expect(owner.locator("#live-status")).to_have_text("Live updates: on")
    expect(owner.locator("#stats-error")).to_have_text("")
    snapshot(owner, "stats")

    # What the page showed live is what the server counts (once the write buffer is flushed: the live
    # server flushes every 0.2 s, the live event is sent at once).
    flush_events(live.app)
    owner.reload()
    expect(owner.locator("#total-clicks")).to_have_text("1")
    expect(owner.locator("#total-views")).to_have_text("1")
    expect(owner.locator(f'#links-table tr[data-link-id="{link_id}"] td').nth(1)).to_have_text("1")


def drop_live_sockets(live: LiveServer) -> int:
    """Disconnect every owner's Socket.IO connection from the server side, as a restart or a network cut
    would; returns how many were dropped."""
    socketio = live.app.extensions["conexoos"].socketio
    rooms = socketio.server.manager.rooms.get("/", {})
    sids = {sid for room, members in rooms.items() if room and room.startswith("owner:") for sid in members}
    for sid in sids:
        socketio.server.disconnect(sid, namespace="/")
    return len(sids)


def test_a_click_missed_while_reconnecting_shows_once_the_dashboard_is_back(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    live = live_server
    owner = new_page()
    sign_up(owner, live, "lin.reconnect")
    add_link(owner, "Portfolio", f"{live.url}/?from=e2e")
    link_id = int(owner.locator("#links .link-item").first.get_attribute("data-id") or "0")
    owner.goto(f"{live.url}/dashboard/stats")
    status = owner.locator("#live-status")
    expect(status).to_have_text("Live updates: on", timeout=LIVE_WAIT_MS)
    expect(owner.locator("#total-clicks")).to_have_text("0")
    owner.evaluate("window.e2eSameDocument = true")

    assert drop_live_sockets(live) == 1
    expect(status).to_have_text("Live updates: reconnecting…", timeout=LIVE_WAIT_MS)
    # The click lands while no dashboard socket is in the owner's room, so its live event reaches nobody.
    visitor = new_page()
    with owner.expect_request(lambda request: "/api/stats?" in request.url, timeout=LIVE_WAIT_MS):
        response = visitor.request.get(f"{live.url}/go/{link_id}", max_redirects=0)
        assert response.status in (302, 303, 307), response.status
        # Stored before the socket is back (Socket.IO waits 0.5 s or more to reconnect), as the reload of
        # the figures then reads it: the live server's own flush may come 0.2 s later.
        flush_events(live.app)
        expect(status).to_have_text("Live updates: on", timeout=LIVE_WAIT_MS)
    expect(owner.locator("#total-clicks")).to_have_text("1")
    expect(owner.locator(f'#links-table tr[data-link-id="{link_id}"] td').nth(1)).to_have_text("1")
    assert owner.evaluate("window.e2eSameDocument === true"), "the dashboard reloaded instead of catching up"


def test_a_product_click_shows_live_beside_link_clicks(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    live = live_server
    owner = new_page()
    sign_up(owner, live, "lin.shop")
    owner.goto(f"{live.url}/dashboard/products")
    add_product(owner, "E-book", "12.50", "EUR", f"{live.url}/?from=e2e-shop")
    product_id = int(owner.locator("#products .product-item").first.get_attribute("data-id") or "0")
    owner.goto(f"{live.url}/dashboard/stats")
    expect(owner.locator("#live-status")).to_have_text("Live updates: on", timeout=LIVE_WAIT_MS)
    expect(owner.locator("#total-product-clicks")).to_have_text("0")
    row = owner.locator(f'#products-table tr[data-product-id="{product_id}"] td')
    expect(row.nth(0)).to_have_text("E-book")
    expect(row.nth(1)).to_have_text("0")

    visitor = new_page()
    response = visitor.request.get(f"{live.url}/go/product/{product_id}", max_redirects=0)
    assert response.status == 302, response.status
    expect(owner.locator("#total-product-clicks")).to_have_text("1", timeout=LIVE_WAIT_MS)
    expect(row.nth(1)).to_have_text("1")
    expect(owner.locator("#total-clicks")).to_have_text("0")  # a product click is not a link click

    flush_events(live.app)  # the live event comes at once; the figures, once the write buffer is flushed
    owner.reload()
    expect(owner.locator("#total-product-clicks")).to_have_text("1")
    expect(row.nth(1)).to_have_text("1")


def test_a_custom_range_the_page_cannot_show_is_explained_next_to_the_date_at_fault(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    """A custom range in the wrong order, too long, or out of bounds: the page says so in the words of
    its fields' labels, next to the date at fault, which is marked invalid and focused."""
    live = live_server
    owner = new_page()
    sign_up(owner, live, "range.owner")
    owner.goto(f"{live.url}/dashboard/stats")
    expect(owner.locator("#total-views")).to_have_text("0")
    range_form = owner.get_by_role("form", name="Date range")
    range_form.get_by_label("Range").select_option("Custom…")
    start = range_form.get_by_label("From", exact=True)
    end = range_form.get_by_label("To", exact=True)
    show = range_form.get_by_role("button", name="Show")
    today = date.today()

    def shown(day_from: date, day_to: date) -> None:
        start.fill(day_from.isoformat())
        end.fill(day_to.isoformat())
        show.click()

    shown(today, today - timedelta(days=36))
    expect(end).to_have_attribute("aria-invalid", "true")
    expect(end).to_have_accessible_description("The To date must be on or after the From date.")
    expect(end).to_be_focused()
    expect(start).not_to_have_attribute("aria-invalid", "true")
    expect(owner.locator("#stats-error")).to_have_text("")

    shown(today - timedelta(days=400), today)
    expect(end).to_have_accessible_description("The range may span at most 366 days.")
    expect(end).to_be_focused()

    shown(date(1960, 1, 1), today)
    expect(start).to_have_attribute("aria-invalid", "true")
    expect(start).to_have_accessible_description(re.compile(r"^From must be between 1970-01-02 and \d{4}-"))
    expect(start).to_be_focused()
    expect(end).not_to_have_attribute("aria-invalid", "true")
    expect(owner.locator(".range .field-error")).to_have_count(1)

    shown(today - timedelta(days=3), today)
    expect(owner.locator(".range .field-error")).to_have_count(0)
    expect(start).not_to_have_attribute("aria-invalid", "true")
    expect(owner.locator("#stats-error")).to_have_text("")
