"""Dashboard lists met with quick hands, as an outside tester did: double-clicks on a row's buttons, keys
pressed while a save is on its way, a phone menu left open, a drag let go of. Each is checked in Chromium
as the person sees it: what is sent, what the list shows, where the focus is."""

from __future__ import annotations

from playwright.sync_api import Page, Request, Route, expect

from tests.support.live_server import LiveServer

from .conftest import PageFactory
from .test_block_editor import STATUS, add_headers, row
from .test_block_editor_fixes import link_row
from .test_blocks_dashboard import add_block, rows
from .test_core_flow import add_link, api_titles, expect_titles, sign_up
from .test_dashboard_phone import phone
from .test_products_dashboard import add_product, item


def record_writes(page: Page, live: LiveServer) -> list[str]:
    """The API requests that change something ("PUT /api/edit/link/3"), in the order the page sends them."""
    writes: list[str] = []

    def note(request: Request) -> None:
        if request.method != "GET" and "/api/" in request.url:
            writes.append(f"{request.method} {request.url.removeprefix(live.url)}")

    page.on("request", note)
    return writes


def test_a_double_click_on_a_row_s_button_acts_once_and_leaves_the_focus_on_the_row(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    """The second click of a double-click lands on the button the first one disabled: it sends nothing,
    and once the answer is drawn the focus is on the row's own button (the next row's after a delete),
    never left on the page's <main>."""
    live = live_server
    page = new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_up(page, live, "dot.double")
    for title in ("Blog", "Shop", "News"):
        add_link(page, title, f"https://example.com/{title.lower()}")
    writes = record_writes(page, live)

    link_row(page, "Blog").get_by_role("button", name="Hide link Blog").dblclick()
    expect(link_row(page, "Blog").get_by_role("button", name="Show link Blog")).to_be_focused()

    shop = link_row(page, "Shop")
    shop.get_by_role("button", name="Edit link Shop").click()
    shop.locator(".link-edit").get_by_label("Title", exact=True).fill("Shop now")
    shop.get_by_role("button", name="Save link Shop").dblclick()
    expect(link_row(page, "Shop now").get_by_role("button", name="Edit link Shop now")).to_be_focused()

    link_row(page, "Blog").get_by_role("button", name="Delete link Blog").dblclick()
    expect(link_row(page, "Blog")).to_have_count(0)
    expect(link_row(page, "Shop now").get_by_role("button", name="Reorder link Shop now")).to_be_focused()
    assert [write.split("/api/")[1].rsplit("/", 1)[0] for write in writes] == [
        "edit/link",
        "edit/link",
        "delete/link",
    ], writes

    add_headers(page, "One", "Two")
    row(page, "One").get_by_role("button", name="Delete header One").dblclick()
    expect(row(page, "One")).to_have_count(0)
    expect(row(page, "Two").get_by_role("button", name="Reorder header Two")).to_be_focused()

    page.goto(f"{live.url}/dashboard/products")
    expect(page.locator("#products-empty")).to_be_visible()  # the editor's script has run
    add_product(page, "Zine", "12.50", "EUR", "https://shop.example.com/zine")
    item(page, "Zine").get_by_role("button", name="Hide product Zine").dblclick()
    expect(item(page, "Zine").get_by_role("button", name="Show product Zine")).to_be_focused()


def test_a_double_click_on_a_move_button_moves_the_row_once(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    """The row moves from under the pointer at the first click: the second click used to land on the next
    row's "Move … down" and move that row back (two saves, the order unchanged). It moves nothing now."""
    live = live_server
    page = new_page()
    sign_up(page, live, "max.move")
    for title in ("Alpha", "Beta", "Gamma"):
        add_link(page, title, f"https://example.com/{title.lower()}")
    writes = record_writes(page, live)

    link_row(page, "Alpha").get_by_role("button", name="Move link Alpha down").dblclick()
    expect(page.locator(STATUS)).to_have_text("Saved the new order.")
    expect(page.locator("#links")).not_to_have_attribute("aria-busy", "true")
    expect_titles(page, ["Beta", "Alpha", "Gamma"])
    assert api_titles(page, live) == ["Beta", "Alpha", "Gamma"]
    assert writes == ["POST /api/links/reorder"], writes
    expect(link_row(page, "Alpha").get_by_role("button", name="Move link Alpha down")).to_be_focused()

    # From the keyboard (its clicks have detail 0) each press still moves the row.
    page.keyboard.press("Enter")
    expect_titles(page, ["Beta", "Gamma", "Alpha"])
    expect(link_row(page, "Alpha").get_by_role("button", name="Move link Alpha down")).to_be_focused()


def test_the_phone_menu_closes_on_escape_when_the_focus_leaves_it_and_on_a_tap_elsewhere(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    """The open Menu used to stay over the page, covering the field the focus had moved on to."""
    page = phone(new_page)
    sign_up(page, live_server, "mia.menu")
    for path in ("/dashboard", "/dashboard/products", "/dashboard/settings"):
        page.goto(f"{live_server.url}{path}")
        menu = page.locator("summary", has_text="Menu")
        nav = page.get_by_role("navigation", name="Main")

        menu.tap()
        expect(nav).to_be_visible()
        page.touchscreen.tap(20, 600)  # on the page below, away from the open panel
        expect(nav).to_be_hidden()

        menu.focus()
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        expect(nav.get_by_role("link", name="Links")).to_be_focused()
        page.keyboard.press("Escape")
        expect(nav).to_be_hidden()
        expect(menu).to_be_focused()

        page.keyboard.press("Enter")
        nav.get_by_role("button", name="Log out").focus()  # its last entry
        page.keyboard.press("Tab")
        expect(nav).to_be_hidden()
        expect(page.locator(":focus")).not_to_have_count(0)
        assert page.evaluate(
            """() => {
              const focused = document.activeElement;
              const box = focused.getBoundingClientRect();
              const seen = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
              return focused.contains(seen);
            }"""
        ), f"{path}: the focused control is covered"


def test_a_row_deleted_in_another_tab_leaves_the_list_when_hidden_or_deleted_here(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    """Hide or Delete on a link another tab deleted says it no longer exists, and its row, which stayed in
    the list until a reload, now goes; the focus moves to the next row as after a delete."""
    live = live_server
    first = new_page()
    first.on("dialog", lambda dialog: dialog.accept())
    sign_up(first, live, "tom.tabs")
    for title in ("Alpha", "Beta", "Gamma", "Delta"):
        add_link(first, title, f"https://example.com/{title.lower()}")
    second = first.context.new_page()
    second.on("dialog", lambda dialog: dialog.accept())
    second.goto(f"{live.url}/dashboard")
    expect(second.locator("#links .link-item")).to_have_count(4)
    for title in ("Beta", "Gamma"):
        link_row(first, title).get_by_role("button", name=f"Delete link {title}").click()
        expect(link_row(first, title)).to_have_count(0)

    link_row(second, "Beta").get_by_role("button", name="Hide link Beta").click()
    expect(second.locator("#form-error")).to_contain_text("Link Beta no longer exists")
    expect(link_row(second, "Beta")).to_have_count(0)
    expect(link_row(second, "Gamma").get_by_role("button", name="Reorder link Gamma")).to_be_focused()

    link_row(second, "Gamma").get_by_role("button", name="Delete link Gamma").click()
    expect(second.locator("#form-error")).to_contain_text("Link Gamma no longer exists")
    expect(link_row(second, "Gamma")).to_have_count(0)
    expect(link_row(second, "Delta").get_by_role("button", name="Reorder link Delta")).to_be_focused()
    expect_titles(second, ["Alpha", "Delta"])


def test_enter_pressed_again_while_a_link_is_added_adds_it_once_and_shows_no_error(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    """Enter pressed five times in "Add a link": one link, and the presses that reach the emptied form
    once the add is saved send nothing (they used to send it empty: "Title may not be empty" under the
    success). Once a field is changed, the form says what is missing again."""
    live = live_server
    page = new_page()
    sign_up(page, live, "eno.enter")
    expect(page.locator("#links")).not_to_have_attribute("aria-busy", "true")
    held: list[Route] = []

    def hold(route: Route) -> None:  # the add waits until the test lets it go
        held.append(route)

    page.route("**/api/add/link", hold)
    writes = record_writes(page, live)
    form = page.locator("#add-link")
    form.get_by_label("Title", exact=True).fill("Blog")
    form.get_by_label("URL", exact=True).fill("https://example.com/blog")
    form.get_by_label("URL", exact=True).press("Enter")
    for _ in range(100):  # the handler runs while Playwright waits
        if held:
            break
        page.wait_for_timeout(100)
    page.keyboard.press("Enter")  # while it saves
    page.keyboard.press("Enter")
    held[0].continue_()
    page.unroute("**/api/add/link")
    expect(page.locator(STATUS)).to_have_text("Saved: link Blog is added.")
    expect(form.get_by_label("Title", exact=True)).to_be_focused()
    page.keyboard.press("Enter")  # after it saved, on the emptied form
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)  # for the answer to a submit, had one been sent
    expect(page.locator("#links .link-item")).to_have_count(1)
    expect(page.locator("#form-error")).to_have_text("")
    expect(form.locator(".field-error")).to_have_count(0)
    expect(page.locator(STATUS)).to_have_text("Saved: link Blog is added.")
    assert writes == ["POST /api/add/link"], writes

    form.get_by_label("Title", exact=True).fill("Shop")  # a change: the form is sent again, URL missing
    page.keyboard.press("Enter")
    expect(form.get_by_label("URL", exact=True)).to_have_attribute("aria-invalid", "true")

    # A kind with no field to fill adds again at once: a second divider right after the first.
    add_block(page, "divider")
    page.locator("#add-block").get_by_role("button", name="Add block").click()
    expect(rows(page).filter(has_text="Divider")).to_have_count(2)
