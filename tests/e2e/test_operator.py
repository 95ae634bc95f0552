"""The operator's first run in Chromium, on a phone: /setup → log in → /admin → suspend a page → audit log.

No JavaScript is needed anywhere on the way (the browser runs with it off), and no admin page is wider
than the phone's screen.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.live_server import LiveServer

from .conftest import PASSWORD, PageFactory, sign_up


def fits_the_screen(page: Page) -> bool:
    """Whether the page needs no sideways scrolling."""
    page.wait_for_load_state("load")  # stylesheets applied
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    return bool(widths[0] <= widths[1])


def test_setup_admin_and_suspension_on_a_phone(new_page: PageFactory, live_server: LiveServer) -> None:
    creator = new_page()
    sign_up(creator, live_server, "phisher")
    expect(creator.get_by_role("link", name="Admin")).to_have_count(0)

    phone = new_page(phone=True, java_script_enabled=False)
    phone.goto(f"{live_server.url}/setup")  # the live server is on 127.0.0.1: the server itself
    expect(phone.get_by_role("heading", name="Set up your site")).to_be_visible()
    phone.get_by_label("Site name").fill("Linkhaus")
    phone.get_by_label("Administrator's email").fill("owner@example.com")
    phone.get_by_label("Administrator's username").fill("owner")
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_label("By invitation").check()
    phone.get_by_role("button", name="Set up the site").click()

    expect(phone.get_by_text("Your site is set up")).to_be_visible()
    phone.get_by_label("Email or username").fill("owner")
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Log in", exact=True).click()
    expect(phone.get_by_role("heading", name="Linkhaus: overview")).to_be_visible()
    assert fits_the_screen(phone)

    phone.get_by_role("navigation", name="Admin").get_by_role("link", name="Users").click()
    phone.get_by_label("Name, username or email contains").fill("phish")
    phone.get_by_role("button", name="Search").click()
    expect(phone.get_by_text("1 account matching")).to_be_visible()
    assert fits_the_screen(phone)
    phone.get_by_role("link", name="phisher").click()
    phone.get_by_label("Reason (shown to the owner)").fill("Phishing page")
    phone.get_by_role("button", name="Suspend").click()
    expect(phone.get_by_text("phisher is suspended")).to_be_visible()
    assert fits_the_screen(phone)

    visitor = new_page()
    assert visitor.goto(f"{live_server.url}/phisher").status == 404  # type: ignore[union-attr]
    creator.goto(f"{live_server.url}/dashboard")
    expect(creator).to_have_url(f"{live_server.url}/login?next=/dashboard")  # the session ended

    phone.get_by_role("link", name="Audit log").click()
    expect(phone.get_by_role("cell", name="user.suspend")).to_be_visible()
    expect(phone.get_by_role("cell", name="setup.complete")).to_be_visible()
    assert fits_the_screen(phone)
    phone.goto(f"{live_server.url}/setup")
    expect(phone.get_by_role("heading", name="Set up your site")).to_have_count(0)

    # Accessibility: a skip link to the admin content; the sign-up policy's choices are big enough to tap.
    phone.goto(f"{live_server.url}/admin/invites")
    skip = phone.get_by_role("link", name="Skip to the admin content")
    expect(skip).to_have_attribute("href", "#admin-content")
    for label in ("Open: anyone may sign up", "By invitation only"):
        box = phone.get_by_text(label, exact=True).bounding_box()
        assert box is not None and box["height"] >= 44, (label, box)
    assert fits_the_screen(phone)
