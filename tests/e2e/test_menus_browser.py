"""The menus in Chromium: an administrator adds entries, reorders them with ↑/↓ and by dragging (saved at
once, without a reload), and without JavaScript with the same buttons; visitors see the order on the
home page."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from tests.support.live_server import LiveServer

from .conftest import PageFactory, scripts_ran, set_up_site
from .test_core_flow import drag


def header_section(page: Page) -> Locator:
    return page.locator("section", has=page.get_by_role("heading", name="Header menu"))


def labels(page: Page) -> list[str]:
    return header_section(page).locator(".link-item .link-title").all_inner_texts()


def add_header_links(admin: Page, *labels: str) -> None:
    """Add a link to another site to the header menu for each of ``labels``, in order, through the form."""
    for label in labels:
        section = header_section(admin)
        section.get_by_label("Label (1 to 60 characters)").fill(label)
        section.get_by_label("A link to another site").check()
        section.get_by_label("Link (http or https)").fill(f"https://example.com/{label.lower()}")
        section.get_by_role("button", name="Add").click()
        expect(admin.get_by_text(f"“{label}” is added to the header menu.")).to_be_visible()


def test_an_administrator_orders_the_header_menu_and_visitors_see_it(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    admin = new_page()
    set_up_site(admin, live_server, policy="Open")
    admin.goto(f"{live_server.url}/admin/menus")
    add_header_links(admin, "One", "Two", "Three")
    assert labels(admin) == ["One", "Two", "Three"]
    scripts_ran(admin)  # the page after the last Add: its ↑/↓ move in place only once admin_menus.js runs

    admin.evaluate("window.notReloaded = true")
    with admin.expect_response(lambda response: response.url.endswith("/admin/menus/header/order")) as answer:
        admin.get_by_role("button", name="Move “Three” up").click()
    assert answer.value.status == 200
    assert labels(admin) == ["One", "Three", "Two"]
    assert admin.evaluate("window.notReloaded === true")  # moved in place: the form was not submitted
    drag(
        admin,
        "One",
        onto="Two",
        side="below",
        list_selector="ol[data-menu='header']",
        reorder_path="/admin/menus/header/order",
    )
    assert labels(admin) == ["Three", "Two", "One"]
    admin.reload()
    assert labels(admin) == ["Three", "Two", "One"]

    visitor = new_page()
    visitor.goto(f"{live_server.url}/")
    site_menu = visitor.get_by_role("navigation", name="Site")
    assert site_menu.get_by_role("link").all_inner_texts() == ["Three", "Two", "One"]

    no_script = new_page(java_script_enabled=False)
    set_up_cookies = admin.context.cookies()
    no_script.context.add_cookies(set_up_cookies)  # the administrator's session, without JavaScript
    no_script.goto(f"{live_server.url}/admin/menus")
    no_script.get_by_role("button", name="Move “One” up").click()
    expect(no_script).to_have_url(f"{live_server.url}/admin/menus#header-menu")
    assert labels(no_script) == ["Three", "One", "Two"]


def test_a_move_in_a_tab_left_open_never_undoes_another_tabs_move(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    """Two tabs show One, Two, Three; the second moves Three up. The first, still showing the old order,
    moved Two up and saved its whole list, which put Three back (the other tab's move lost, outside
    tester): it is now refused, and that tab shows the menu as saved, where the next move is kept."""
    admin = new_page()
    set_up_site(admin, live_server, policy="Open")
    admin.goto(f"{live_server.url}/admin/menus")
    add_header_links(admin, "One", "Two", "Three")
    scripts_ran(admin)
    other_tab = admin.context.new_page()
    other_tab.goto(f"{live_server.url}/admin/menus")
    with other_tab.expect_response(lambda response: response.url.endswith("/header/order")) as answer:
        other_tab.get_by_role("button", name="Move “Three” up").click()
    assert answer.value.status == 200 and labels(other_tab) == ["One", "Three", "Two"]

    with admin.expect_response(lambda response: response.url.endswith("/header/order")) as answer:
        admin.get_by_role("button", name="Move “Two” up").click()
    assert answer.value.status == 409
    status = header_section(admin).get_by_role("status")
    expect(status).to_contain_text("reordered in another tab or window")
    expect(status).to_contain_text("shown as it is saved now")
    expect(header_section(admin).locator(".link-item .link-title")).to_have_text(["One", "Three", "Two"])
    other_tab.reload()
    assert labels(other_tab) == ["One", "Three", "Two"]  # the other tab's move was kept

    with admin.expect_response(lambda response: response.url.endswith("/header/order")) as answer:
        admin.get_by_role("button", name="Move “Two” up").click()  # on the order now shown
    assert answer.value.status == 200
    other_tab.reload()
    assert labels(other_tab) == ["One", "Two", "Three"]
