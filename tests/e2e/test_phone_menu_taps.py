"""The phone's Menu met with taps, as an outside tester did on a 390x844 phone: a tap outside the open menu
used to close it and also follow the link tapped. It only closes it now; the menu's Menu button, its own
links and the keyboard work as before."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.live_server import LiveServer

from .conftest import PageFactory
from .test_block_editor import touch_drag
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


def tap_left_end(page: Page, control: Locator) -> None:
    """Tap ``control`` 12 px from its left edge (its middle when narrower), halfway down."""
    box = control.bounding_box()
    assert box is not None
    page.touchscreen.tap(box["x"] + min(12, box["width"] / 2), box["y"] + box["height"] / 2)


CONTROLS = {  # on /settings/appearance
    "a radio": "input[type=radio][value=solid]",  # "One colour", not checked as the page opens
    "a select": "#theme",
    "a number field": "#corner_radius",
}


@pytest.mark.parametrize("kind", CONTROLS)
def test_a_tap_outside_the_open_menu_acts_on_no_form_control(
    live_server: LiveServer, new_page: PageFactory, kind: str
) -> None:
    """On Appearance, a tap outside the open menu on a radio, a select or a number field only closes the
    menu: each used to take the focus (a select opens with it), since the press itself acts on these, not
    the click that was swallowed. The next tap acts on the control as usual."""
    live = live_server
    page = phone(new_page)
    sign_up(page, live, "tia.form")
    page.goto(f"{live.url}/settings/appearance")
    menu = page.locator("summary", has_text="Menu")
    nav = page.get_by_role("navigation", name="Main")
    control = page.locator(CONTROLS[kind])
    expect(page.get_by_label("One colour")).not_to_be_checked()

    menu.tap()
    expect(nav).to_be_visible()
    control.scroll_into_view_if_needed()  # the Menu button is at the top of the page
    tap_left_end(page, control)  # the open menu, on the right, covers a wide control's middle
    expect(nav).to_be_hidden()
    page.wait_for_timeout(300)  # for the focus or the check, had the tap reached the control
    expect(control).not_to_be_focused()
    expect(page.get_by_label("One colour")).not_to_be_checked()

    tap_left_end(page, control)  # the menu is closed: the next tap acts on the control
    expect(control).to_be_focused()
    if kind == "a radio":
        expect(control).to_be_checked()


def test_a_touch_scroll_begun_outside_the_open_menu_still_scrolls_the_page(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    """The cancelled press of a finger that then moves (a scroll) closes the menu and scrolls the page as
    usual, with nothing checked or thrown on the way. The focus, on one of the menu's links as it closed,
    goes back to its Menu button: it used to stay on the hidden link."""
    live = live_server
    page = phone(new_page)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_up(page, live, "tia.scroll")
    page.goto(f"{live.url}/settings/appearance")
    menu = page.locator("summary", has_text="Menu")
    nav = page.get_by_role("navigation", name="Main")
    menu.tap()
    expect(nav).to_be_visible()
    assert page.evaluate("scrollY") == 0
    nav.get_by_role("link", name="Products").focus()  # as Tab would have left it

    touch_drag(page, (40, 700), (40, 250))
    expect(nav).to_be_hidden()
    page.wait_for_function("scrollY > 200")
    expect(menu).to_be_focused()
    assert page.evaluate("scrollY") > 200, "focusing the Menu button scrolled the page back up"
    expect(page.get_by_label("One colour")).not_to_be_checked()
    assert errors == []
