"""The public page and the appearance preview on a 390x844 phone, where most visitors are (outside
tester): a display name of one 60-letter word wraps in the preview as on the page."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.live_server import LiveServer

from .conftest import PageFactory, sign_up

PHONE = {"width": 390, "height": 844}
LONG_NAME = "W" * 60  # the longest display name the form takes, with no space to wrap at


def test_the_preview_wraps_a_long_display_name_as_the_page_does(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    page = new_page()
    sign_up(page, live_server, "ann")
    page.goto(f"{live_server.url}/dashboard/settings")
    page.get_by_label("Display name").fill(LONG_NAME)
    page.get_by_role("button", name="Save").first.click()
    expect(page.get_by_label("Display name")).to_have_value(LONG_NAME)
    phone = new_page(phone=True, viewport=PHONE, storage_state=page.context.storage_state())
    phone.goto(f"{live_server.url}/settings/appearance")
    name = phone.locator(".preview-name")
    expect(name).to_have_text(LONG_NAME)
    clipped = "e => [e.scrollWidth, e.clientWidth]"
    scroll_width, width = name.evaluate(clipped)
    assert scroll_width <= width, f"the name is {scroll_width} px wide in a {width} px preview"
    frame = phone.locator(".appearance-preview-frame")
    frame_scroll, frame_width = frame.evaluate(clipped)
    assert frame_scroll <= frame_width, "the preview scrolls sideways"
    visitor = new_page(phone=True, viewport=PHONE)
    visitor.goto(f"{live_server.url}/ann")
    assert visitor.locator("h1").evaluate(clipped)[0] <= PHONE["width"]  # the page wraps it
