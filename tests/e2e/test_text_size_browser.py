"""A public page's text, and that of the visitor's pages beside it (the report form, the 404 page, the
login), follows the reader's font size (the browser's Settings > Appearance > Font size): their body was
sized in px, which that setting does not change (outside tester). At the default 16 px they look as they
did."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.support.live_server import LiveServer

from .conftest import PageFactory, sign_up
from .test_core_flow import add_link

TEXTS = {"name": "h1", "handle": ".handle", "link": ".link", "footer": "footer a"}
"""Texts of the page, by the selector of their first element."""


VISITOR_PAGES = {"report": "/ana/report", "not found": "/nobody-by-this-name", "login": "/login"}
"""The site's pages a visitor reaches from a public page, styled by the site's stylesheet (app.css)."""
VISITOR_TEXTS = {"body": "body", "title": "main h1", "label": "main label"}


def text_sizes(page: Page, texts: dict[str, str] = TEXTS) -> dict[str, str]:
    """The computed font size of the first element of each of ``texts`` (by selector)."""
    return {
        text: page.locator(selector).first.evaluate("element => getComputedStyle(element).fontSize")
        for text, selector in texts.items()
    }


def set_font_size(page: Page, pixels: int) -> None:
    """Set the browser's font size, as a reader does in its settings (its default is 16)."""
    browser_settings = page.context.new_cdp_session(page)
    browser_settings.send("Page.enable")
    browser_settings.send("Page.setFontSizes", {"fontSizes": {"standard": pixels}})


def test_the_public_page_follows_the_readers_font_size(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    creator = new_page()
    sign_up(creator, live_server, "ana")
    add_link(creator, "My shop", "https://example.com/")
    reader = new_page()
    reader.goto(f"{live_server.url}/ana")
    assert text_sizes(reader) == {"name": "22.4px", "handle": "16px", "link": "16px", "footer": "14px"}
    set_font_size(reader, 24)  # the reader's choice
    reader.reload()
    assert text_sizes(reader) == {"name": "33.6px", "handle": "24px", "link": "24px", "footer": "21px"}


def test_the_visitors_pages_beside_the_public_page_follow_the_readers_font_size(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    sign_up(new_page(), live_server, "ana")
    reader = new_page()
    sizes = {}
    for pixels in (16, 24):
        set_font_size(reader, pixels)
        for name, path in VISITOR_PAGES.items():
            reader.goto(f"{live_server.url}{path}")
            texts = VISITOR_TEXTS if name != "not found" else {"body": "body", "title": "main h1"}
            sizes[name, pixels] = text_sizes(reader, texts)
    default = {"body": "16px", "title": "32px", "label": "16px"}
    assert sizes["report", 16] == sizes["login", 16] == default
    assert sizes["not found", 16] == {"body": "16px", "title": "32px"}
    bigger = {"body": "24px", "title": "48px", "label": "24px"}
    assert sizes["report", 24] == sizes["login", 24] == bigger
    assert sizes["not found", 24] == {"body": "24px", "title": "48px"}
