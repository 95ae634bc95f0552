"""A word longer than a phone's line (a German compound, a long address) wraps instead of widening the
page: a site page's title, a header menu label and a creator's link address on the admin's user page each
made the page 570-1,080 px wide at 390 px (outside tester)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.live_server import LiveServer

from .conftest import PageFactory, set_up_site, sign_up
from .test_core_flow import add_link
from .test_menus_browser import header_section

WORD = "Anmeldebestätigungsinformationsverarbeitungsrichtlinien"
ADDRESS = (
    "https://shop.example.com/collections/summer-2026/products/handmade-ceramic-mug-blue?variant=123456789"
)


def test_long_words_wrap_on_a_phone(new_page: PageFactory, live_server: LiveServer) -> None:
    width = 320  # the narrowest phone: what fits there fits at 390
    admin = new_page()
    set_up_site(admin, live_server, policy="Open")
    admin.goto(f"{live_server.url}/admin/pages/new")
    admin.get_by_label("Title").fill(WORD)
    admin.get_by_label("Address").fill("longword")
    admin.get_by_label("Text (Markdown)").fill(f"{WORD} {WORD}")
    admin.get_by_label("Status").select_option("published")
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_text("The page /p/longword is saved")).to_be_visible()
    admin.goto(f"{live_server.url}/admin/menus")
    section = header_section(admin)
    section.get_by_label("Label (1 to 60 characters)").fill(WORD)
    section.get_by_label("A link to another site").check()
    section.get_by_label("Link (http or https)").fill("https://example.com/")
    section.get_by_role("button", name="Add").click()

    creator = new_page()
    sign_up(creator, live_server, "ana")
    add_link(creator, "Mug", ADDRESS)
    admin.goto(f"{live_server.url}/admin/users")
    admin.get_by_role("link", name="ana", exact=True).click()
    user_page = admin.url

    phone = new_page(phone=True, viewport={"width": width, "height": 844})
    wider = []
    for url in (f"{live_server.url}/p/longword", f"{live_server.url}/", f"{live_server.url}/login"):
        phone.goto(url)
        wider.append((url, phone.evaluate("document.documentElement.scrollWidth")))
    admin.set_viewport_size({"width": width, "height": 844})
    admin.goto(user_page)
    wider.append((user_page, admin.evaluate("document.documentElement.scrollWidth")))
    assert [(url, size) for url, size in wider if size > width] == []
