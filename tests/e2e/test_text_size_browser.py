"""A public page's text follows the reader's font size (the browser's Settings > Appearance > Font size):
its body was sized in px, which that setting does not change (outside tester). At the default 16 px it
looks as it did."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.support.live_server import LiveServer

from .conftest import PageFactory, sign_up
from .test_core_flow import add_link

TEXTS = {"name": "h1", "handle": ".handle", "link": ".link", "footer": "footer a"}
"""Texts of the page, by the selector of their first element."""


def text_sizes(page: Page) -> dict[str, str]:
    """The computed font size of each of :data:`TEXTS`."""
    return {
        text: page.locator(selector).first.evaluate("element => getComputedStyle(element).fontSize")
        for text, selector in TEXTS.items()
    }


def test_the_public_page_follows_the_readers_font_size(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    creator = new_page()
    sign_up(creator, live_server, "ana")
    add_link(creator, "My shop", "https://example.com/")
    reader = new_page()
    reader.goto(f"{live_server.url}/ana")
    assert text_sizes(reader) == {"name": "22.4px", "handle": "16px", "link": "16px", "footer": "14px"}
    browser_settings = reader.context.new_cdp_session(reader)
    browser_settings.send("Page.enable")
    browser_settings.send("Page.setFontSizes", {"fontSizes": {"standard": 24}})  # the reader's choice
    reader.reload()
    assert text_sizes(reader) == {"name": "33.6px", "handle": "24px", "link": "24px", "footer": "21px"}
