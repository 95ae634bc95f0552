"""The phone's Menu met with taps, as an outside tester did on a 390x844 phone: a tap outside the open menu
used to close it and also follow the link tapped. It only closes it now; the menu's Menu button, its own
links and the keyboard work as before."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.live_server import LiveServer

from .conftest import PageFactory
from .test_core_flow import sign_up
from .test_dashboard_phone import phone


def test_a_tap_outside_the_open_menu_only_closes_it(live_server: LiveServer, new_page: PageFactory) -> None:
    live = live_server
    page = phone(new_page)
    sign_up(page, live, "tia.tap")
    dashboard, home = f"{live.url}/dashboard", f"{live.url}/"
    menu = page.locator("summary", has_text="Menu")
    nav = page.get_by_role("navigation", name="Main")
    brand = page.locator("header a.brand")  # a link outside the menu, the site's home page

    menu.tap()
    expect(nav).to_be_visible()
    brand.tap()
    expect(nav).to_be_hidden()
    page.wait_for_timeout(500)  # for the home page, had the tap followed the link
    expect(page).to_have_url(dashboard)
    brand.tap()  # the menu is closed: the next tap follows the link
    expect(page).to_have_url(home)

    # The Menu button still toggles it, and its own links are followed at the first tap.
    page.goto(dashboard)
    menu.tap()
    expect(nav).to_be_visible()
    menu.tap()
    expect(nav).to_be_hidden()
    menu.tap()
    nav.get_by_role("link", name="Products").tap()
    expect(page).to_have_url(f"{live.url}/dashboard/products")

    # A press outside that ends in no click (a scroll) closes the menu and swallows no key's click after.
    menu.tap()
    expect(nav).to_be_visible()
    page.locator("main").dispatch_event("pointerdown", {"isPrimary": True, "pointerType": "touch"})
    expect(nav).to_be_hidden()
    brand.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(home)
