"""The dashboard editor's defects an outside tester found (issue #13), each checked in Chromium as a
creator meets it: a refused upload, the "Saved" status on a phone, wording, caps and focus."""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import APIResponse, Locator, Page, Route, expect

from tests.support.live_server import LiveServer

from .conftest import PageFactory
from .test_block_editor import STATUS, add_headers, reorder_saved, row
from .test_blocks_dashboard import api_blocks, posted_block, rows
from .test_core_flow import add_link, sign_up
from .test_dashboard_phone import phone
from .test_products_dashboard import add_product, item

NOT_AN_IMAGE = {"name": "icon.png", "mimeType": "image/png", "buffer": b"this is not an image"}


def link_row(page: Page, title: str) -> Locator:
    return page.locator("#links .link-item").filter(has_text=title)


def test_a_refused_icon_is_shown_under_the_icon_field_and_the_form_stays_open(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    live = live_server
    page = new_page()
    sign_up(page, live, "ivy.icon")
    add_link(page, "Instagram", "https://instagram.com/ivy")
    link = link_row(page, "Instagram")
    link.get_by_role("button", name="Edit link Instagram").click()
    form = link.locator(".link-edit")
    form.get_by_label("Icon", exact=False).set_input_files(files=[NOT_AN_IMAGE])
    with page.expect_response(lambda response: response.url.endswith("/icon")) as answer:
        form.get_by_role("button", name="Save", exact=False).click()
    assert answer.value.status == 400, answer.value.text()
    said = answer.value.json()["error"]["message"]
    expect(form).to_be_visible()
    icon = form.get_by_label("Icon", exact=False)
    expect(icon).to_have_attribute("aria-invalid", "true")
    expect(form.locator(".field-error")).to_have_text(said[0].upper() + said[1:])
    expect(icon).to_be_focused()
    expect(page.locator(STATUS)).not_to_contain_text("Saved")


def test_a_refused_product_image_is_shown_under_its_row(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    live = live_server
    page = new_page()
    sign_up(page, live, "pia.picture")
    page.goto(f"{live.url}/dashboard/products")
    expect(page.locator("#products-empty")).to_be_visible()  # the editor's script has run: the form is its
    add_product(page, "Zine", "12.50", "EUR", "https://shop.example.com/zine")
    with page.expect_response(lambda response: response.url.endswith("/image")) as answer:
        item(page, "Zine").locator('input[type="file"]').set_input_files(files=[NOT_AN_IMAGE])
    assert answer.value.status == 400, answer.value.text()
    said = answer.value.json()["error"]["message"]
    expect(item(page, "Zine").locator(".field-error")).to_have_text(said)
    expect(item(page, "Zine").locator('input[type="file"]')).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#product-error")).to_have_text("")


def test_the_saved_status_never_covers_the_focused_button_nor_catches_taps_on_a_phone(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    live = live_server
    page = phone(new_page)
    sign_up(page, live, "sam.status")
    add_headers(page, "One", "Two")
    hide = row(page, "Two").get_by_role("button", name="Hide header Two")
    hide.evaluate("button => button.scrollIntoView({block: 'end'})")  # at the very bottom of the screen
    hide.tap()
    status = page.locator(STATUS)
    expect(status).to_have_text("Saved: header Two is hidden.")
    shown = row(page, "Two").get_by_role("button", name="Show header Two")
    expect(shown).to_be_focused()
    page.wait_for_function(  # the scroll after the status is shown: the button ends above the status
        "([button, status]) => button.getBoundingClientRect().bottom <= status.getBoundingClientRect().top",
        arg=[shown.element_handle(), status.element_handle()],
    )
    button, message = shown.bounding_box(), status.bounding_box()
    assert button is not None and message is not None
    assert button["y"] + button["height"] <= message["y"], (button, message)
    assert status.evaluate("element => getComputedStyle(element).pointerEvents") == "none"
    x, y = message["x"] + message["width"] / 2, message["y"] + message["height"] / 2
    assert page.evaluate("([x, y]) => document.elementFromPoint(x, y).id", [x, y]) != "action-status"


def test_errors_that_no_field_fixes_say_what_to_do_with_a_reload_or_a_log_in(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    live = live_server
    page = new_page()
    sign_up(page, live, "rey.reload")
    add_headers(page, "One", "Two")
    box = page.locator("#block-error")

    # Another tab adds a block: the order this page sends is stale.
    page.evaluate("() => window.conexoosApi('POST', '/api/blocks', {kind: 'header', title: 'Three'})")
    with reorder_saved(page) as answer:
        row(page, "One").get_by_role("button", name="Move header One down").click()
    assert answer.value.status == 422, answer.value.text()
    expect(box).to_contain_text("Your blocks changed in another tab or window: reload to see them")
    expect(box.get_by_role("button", name="Reload")).to_be_visible()

    # Another tab deletes a block: hiding it here says so.
    page.reload()
    expect(rows(page)).to_have_count(3)
    two = api_blocks(page, live)[1]["id"]
    page.evaluate("id => window.conexoosApi('DELETE', `/api/blocks/${id}`)", two)
    row(page, "Two").get_by_role("button", name="Hide header Two").click()
    expect(box).to_contain_text(
        "Header Two no longer exists (deleted in another tab or window?): "
        "reload to see your page as it is now."
    )
    expect(box.get_by_role("button", name="Reload")).to_be_visible()
    with page.expect_navigation():
        box.get_by_role("button", name="Reload").click()
    expect(rows(page)).to_have_count(2)

    # Logged out in another tab: the next action says so, with a Log in link back to the dashboard.
    page.evaluate(
        """() => fetch("/logout", {method: "POST", headers: {
            "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content}})"""
    )
    with page.expect_response(lambda response: "/api/blocks/" in response.url) as answer:
        row(page, "One").get_by_role("button", name="Hide header One").click()
    assert answer.value.status == 401, answer.value.text()
    expect(box).to_contain_text(
        "You are not logged in (logged out in another tab or window?): log in to go on."
    )
    expect(box.get_by_role("link", name="Log in")).to_have_attribute("href", "/login?next=%2Fdashboard")


def test_a_social_row_stops_at_20_profiles_and_says_why(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    page = new_page()
    sign_up(page, live_server, "cap.twenty")
    page.goto(f"{live_server.url}/dashboard")
    form = page.locator("#add-block")
    form.get_by_label("Kind of block").select_option("social")
    add = form.get_by_role("button", name="Add a profile")
    note = form.locator(".social-cap")
    expect(note).to_be_hidden()
    for _ in range(19):
        add.click()
    expect(form.locator(".social-row")).to_have_count(20)
    expect(add).to_be_disabled()
    expect(note).to_be_visible()
    expect(add).to_have_accessible_description(
        "This row holds 20 profiles, the most it can: remove one to add another."
    )
    form.get_by_role("button", name="Remove profile 20").click()
    expect(add).to_be_enabled()
    expect(note).to_be_hidden()


def test_the_ends_of_the_list_cannot_move_further_and_delete_leaves_focus_on_a_safe_control(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    live = live_server
    page = new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_up(page, live, "eve.ends")
    add_headers(page, "One", "Two", "Three")
    up = row(page, "One").get_by_role("button", name="Move header One up")
    down = row(page, "Three").get_by_role("button", name="Move header Three down")
    expect(up).to_have_attribute("aria-disabled", "true")
    expect(down).to_have_attribute("aria-disabled", "true")
    expect(row(page, "One").get_by_role("button", name="Move header One down")).not_to_have_attribute(
        "aria-disabled", "true"
    )
    expect(row(page, "Two").get_by_role("button", name="Move header Two up")).not_to_have_attribute(
        "aria-disabled", "true"
    )
    writes: list[str] = []
    page.on("request", lambda request: writes.append(request.url) if request.method != "GET" else None)
    up.focus()
    page.keyboard.press("Enter")  # aria-disabled: still focusable and pressed, and it moves nothing
    expect(up).to_be_focused()

    # After Delete the focus is on the next row's handle, never on its Delete button: a second Enter
    # deletes nothing.
    one = row(page, "One").get_attribute("data-id")
    row(page, "One").get_by_role("button", name="Delete header One").focus()
    page.keyboard.press("Enter")
    expect(row(page, "Two").get_by_role("button", name="Reorder header Two")).to_be_focused()
    assert [url.removeprefix(live.url) for url in writes] == [f"/api/blocks/{one}"]  # the delete alone
    expect(row(page, "Two").get_by_role("button", name="Move header Two up")).to_have_attribute(
        "aria-disabled", "true"
    )
    expect(rows(page)).to_have_count(2)


def test_a_product_block_s_price_is_typed_in_the_currency_s_units(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    live = live_server
    page = new_page()
    sign_up(page, live, "pat.price")
    page.goto(f"{live.url}/dashboard")
    form = page.locator("#add-block")
    form.get_by_label("Kind of block").select_option("product")
    form.get_by_label("Title", exact=True).fill("Zine")
    form.get_by_label("Currency (three letters)").fill("EUR")
    form.get_by_label("Link to buy it").fill("https://shop.example.com/zine")
    price = form.get_by_label("Price (such as 12.50)")
    price.fill("twelve")
    form.get_by_role("button", name="Add block").click()
    expect(form.locator(".field-error")).to_have_text("Enter a price like 12.50 (or 12,50).")
    expect(price).to_be_focused()
    price.fill("12.50")
    with page.expect_response(posted_block) as answer:
        form.get_by_role("button", name="Add block").click()
    assert answer.value.status == 201, answer.value.text()
    assert api_blocks(page, live)[-1]["price"] == 1250

    zine = row(page, "Zine")
    zine.get_by_role("button", name="Edit product Zine").click()
    expect(zine.get_by_label("Price (such as 12.50)")).to_have_value("12.50")
    zine.get_by_label("Currency (three letters)").fill("JPY")
    zine.get_by_label("Price (such as 12.50)").fill("1250")
    zine.get_by_role("button", name="Save product Zine").click()
    expect(page.locator(STATUS)).to_have_text("Saved product Zine.")
    assert api_blocks(page, live)[-1]["price"] == 1250
    assert api_blocks(page, live)[-1]["currency"] == "JPY"


def test_a_product_block_s_refused_currency_is_said_once(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    """The label gives the form, the server's message the examples: "Currency (such as EUR) must be an ISO
    4217 currency code such as EUR or USD" said the example twice."""
    live = live_server
    page = new_page()
    sign_up(page, live, "cy.words")
    page.goto(f"{live.url}/dashboard")
    form = page.locator("#add-block")
    form.get_by_label("Kind of block").select_option("product")
    form.get_by_label("Title", exact=True).fill("Zine")
    form.get_by_label("Price (such as 12.50)").fill("12.50")
    currency = form.get_by_label("Currency (three letters)")
    currency.fill("EUX")
    form.get_by_label("Link to buy it").fill("https://shop.example.com/zine")
    with page.expect_response(posted_block) as answer:
        form.get_by_role("button", name="Add block").click()
    assert answer.value.status == 422, answer.value.text()
    expect(currency).to_have_accessible_description(
        "Currency (three letters) must be an ISO 4217 code such as EUR or USD"
    )
    expect(currency).to_be_focused()


def test_edit_buttons_and_image_fields_name_their_item(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    live = live_server
    page = new_page()
    sign_up(page, live, "nia.names")
    add_link(page, "Portfolio", "https://example.com/work")
    link = link_row(page, "Portfolio")
    link.get_by_role("button", name="Edit link Portfolio").click()
    expect(link.get_by_role("button", name="Save link Portfolio", exact=True)).to_be_visible()
    expect(link.get_by_role("button", name="Cancel editing link Portfolio", exact=True)).to_be_visible()

    # "Remove the icon" only for a link with an uploaded icon.
    remove = link.get_by_role("button", name="Remove the icon")
    expect(remove).to_be_hidden()
    picture = io.BytesIO()
    Image.new("RGB", (64, 64), "teal").save(picture, format="PNG")
    link.get_by_label("Icon", exact=False).set_input_files(
        files=[{"name": "icon.png", "mimeType": "image/png", "buffer": picture.getvalue()}]
    )
    link.get_by_role("button", name="Save link Portfolio").click()
    expect(page.locator(STATUS)).to_have_text("Saved link Portfolio.")
    link.get_by_role("button", name="Edit link Portfolio").click()
    expect(remove).to_be_visible()
    remove.click()
    expect(link.locator(".errors")).to_contain_text("The icon is removed")
    expect(remove).to_be_hidden()
    page.reload()
    link_row(page, "Portfolio").get_by_role("button", name="Edit link Portfolio").click()
    expect(link_row(page, "Portfolio").get_by_role("button", name="Remove the icon")).to_be_hidden()
    page.goto(f"{live.url}/dashboard/products")
    expect(page.locator("#products-empty")).to_be_visible()  # the editor's script has run: the form is its
    add_product(page, "Zine", "12.50", "EUR", "https://shop.example.com/zine")
    expect(item(page, "Zine").get_by_label("Image for product Zine", exact=True)).to_have_count(1)


def _listed_blocks(route: Route) -> bool:
    return route.request.method == "GET"


def test_a_block_added_while_the_layout_loads_is_shown_once(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    """The layout's first GET answered after the add, already holding the new block: one row, not two
    (the add's answer used to append it again; a reorder then sent its id twice and was refused)."""
    live = live_server
    page = new_page()
    sign_up(page, live, "gil.race")
    held_list: list[Route] = []
    held_add: list[tuple[Route, APIResponse]] = []

    def hold(route: Route) -> None:
        if _listed_blocks(route):
            held_list.append(route)
        else:  # the server saves the block now; its answer reaches the page later
            held_add.append((route, route.fetch()))

    page.route("**/api/blocks", hold)
    page.goto(f"{live.url}/dashboard")
    form = page.locator("#add-block")
    form.get_by_label("Kind of block").select_option("header")
    form.get_by_label("Title", exact=True).fill("Early")
    expect(form.get_by_role("button", name="Add block")).to_be_enabled()
    form.get_by_role("button", name="Add block").click()
    for _ in range(100):  # the handlers run while Playwright waits
        if held_add and held_list:
            break
        page.wait_for_timeout(100)
    assert len(held_add) == 1 and len(held_list) == 1, (held_add, held_list)
    held_list[0].continue_()  # reaches the server after the add: it lists "Early"
    expect(rows(page)).to_have_count(1)
    route, answer = held_add[0]
    route.fulfill(response=answer)
    page.unroute("**/api/blocks", hold)
    expect(page.locator(STATUS)).to_have_text("Saved: header Early is added.")
    expect(rows(page)).to_have_count(1)
    expect(page.locator("#blocks")).not_to_have_attribute("aria-busy", "true")


def test_a_layout_answer_older_than_an_add_never_hides_the_new_block(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    """The layout's first GET read the database before the add, and its answer came after: it is dropped
    and the layout asked again (it used to draw the empty layout over the block just added)."""
    live = live_server
    page = new_page()
    sign_up(page, live, "hal.race")
    stale: list[tuple[Route, APIResponse]] = []

    def hold(route: Route) -> None:
        if _listed_blocks(route) and not stale:
            stale.append((route, route.fetch()))  # the empty layout, read now, answered later
        else:
            route.continue_()

    page.route("**/api/blocks", hold)
    page.goto(f"{live.url}/dashboard")
    form = page.locator("#add-block")
    form.get_by_label("Kind of block").select_option("header")
    form.get_by_label("Title", exact=True).fill("Kept")
    with page.expect_response(posted_block) as added:
        form.get_by_role("button", name="Add block").click()
    assert added.value.status == 201, added.value.text()
    expect(page.locator(STATUS)).to_have_text("Saved: header Kept is added.")
    assert len(stale) == 1
    route, answer = stale[0]
    assert answer.json() == [], answer.text()
    route.fulfill(response=answer)
    expect(page.locator("#blocks")).not_to_have_attribute("aria-busy", "true")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).locator(".link-url")).to_have_text(["Kept"])
    assert [block["title"] for block in api_blocks(page, live)] == ["Kept"]


def test_a_tab_left_open_saves_only_what_it_changed(live_server: LiveServer, new_page: PageFactory) -> None:
    """Two tabs on one dashboard: the first saves a new address and the adult-content notice; the second,
    not reloaded, then changes the title. Both stand (the second used to send every field as it drew them,
    putting back the old address and turning the notice off)."""
    live = live_server
    first = new_page()
    sign_up(first, live, "ivy.tabs")
    add_link(first, "Portfolio", "https://example.com/work")
    second = first.context.new_page()
    second.goto(f"{live.url}/dashboard")
    expect(second.locator("#links")).not_to_have_attribute("aria-busy", "true")

    link = link_row(first, "Portfolio")
    link.get_by_role("button", name="Edit link Portfolio").click()
    form = link.locator(".link-edit")
    form.get_by_label("URL", exact=True).fill("https://example.com/new")
    form.get_by_label("Visitors confirm first", exact=False).check()
    with first.expect_response(lambda response: "/api/edit/link/" in response.url) as saved:
        form.get_by_role("button", name="Save", exact=False).click()
    assert saved.value.status == 200, saved.value.text()

    stale = link_row(second, "Portfolio")
    stale.get_by_role("button", name="Edit link Portfolio").click()
    stale_form = stale.locator(".link-edit")
    stale_form.get_by_label("Title", exact=True).fill("Portfolio 2026")
    with second.expect_request(lambda request: "/api/edit/link/" in request.url) as sent:
        stale_form.get_by_role("button", name="Save", exact=False).click()
    assert sent.value.post_data_json == {"title": "Portfolio 2026"}
    expect(second.locator(STATUS)).to_have_text("Saved link Portfolio 2026.")

    links = first.request.get(f"{live.url}/api/links").json()
    assert [(link["title"], link["url"]) for link in links] == [("Portfolio 2026", "https://example.com/new")]
    locks = first.request.get(f"{live.url}/api/links/locks").json()
    assert [lock["sensitive"] for lock in locks] == [True]

    # Saving with nothing changed sends nothing.
    stale = link_row(second, "Portfolio 2026")
    stale.get_by_role("button", name="Edit link Portfolio 2026").click()
    writes: list[str] = []
    second.on("request", lambda request: writes.append(request.url) if request.method != "GET" else None)
    stale.locator(".link-edit").get_by_role("button", name="Save", exact=False).click()
    expect(second.locator(STATUS)).to_have_text("Nothing changed in link Portfolio 2026.")
    assert writes == []


def test_a_product_image_is_chosen_from_the_keyboard(live_server: LiveServer, new_page: PageFactory) -> None:
    """The Image control was a label around a hidden input: Tab went from ↓ straight to Hide."""
    live = live_server
    page = new_page()
    sign_up(page, live, "kit.keys")
    page.goto(f"{live.url}/dashboard/products")
    add_product(page, "Zine", "12.50", "EUR", "https://shop.example.com/zine")
    item(page, "Zine").get_by_role("button", name="Move product Zine down").focus()
    page.keyboard.press("Tab")
    chooser = item(page, "Zine").get_by_label("Image for product Zine")
    expect(chooser).to_be_focused()
    outline = (
        item(page, "Zine").locator("label.upload").evaluate("label => getComputedStyle(label).outlineStyle")
    )
    assert outline == "solid"  # the focus ring is drawn on the visible control
    with page.expect_file_chooser() as opened:
        page.keyboard.press("Space")
    with page.expect_response(lambda response: response.url.endswith("/image")) as answer:
        opened.value.set_files(files=[{"name": "z.png", "mimeType": "image/png", "buffer": tiny_png()}])
    assert answer.value.status == 200, answer.value.text()
    image_url = answer.value.json()["image_url"]
    assert image_url.endswith(".webp")
    expect(item(page, "Zine").locator("img.thumb")).to_have_attribute("src", image_url)
    expect(item(page, "Zine").get_by_label("Image for product Zine")).to_be_focused()  # not lost to <body>
    expect(page.locator(STATUS)).to_have_text("Saved: a new image for product Zine.")


def tiny_png() -> bytes:
    picture = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(picture, "PNG")
    return picture.getvalue()


def test_a_tab_left_open_cannot_undo_another_tabs_move(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    """The second tab's move was sent over the first's, and put its order back."""
    live = live_server
    first = new_page()
    sign_up(first, live, "ivo.order")
    for title in ("One", "Two", "Three"):
        add_link(first, title, f"https://example.com/{title.lower()}")
    second = first.context.new_page()
    second.goto(f"{live.url}/dashboard")
    expect(second.locator("#links")).not_to_have_attribute("aria-busy", "true")

    reordered = lambda response: response.url.endswith("/api/links/reorder")  # noqa: E731
    with first.expect_response(reordered) as moved:
        link_row(first, "One").get_by_role("button", name="Move link One down").click()
    assert moved.value.status == 200, moved.value.text()
    with second.expect_response(reordered) as stale:
        link_row(second, "Three").get_by_role("button", name="Move link Three up").click()
    assert stale.value.status == 409, stale.value.text()
    expect(second.locator("#form-error")).to_contain_text("reordered in another tab or window")
    expect(second.locator("#links .link-item .link-title")).to_have_text(["Two", "One", "Three"])
    links = first.request.get(f"{live.url}/api/links").json()
    assert [link["title"] for link in links] == ["Two", "One", "Three"]


def test_the_page_layout_says_when_a_scheduled_link_shows(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    """It said "Shown" for a link whose window opens later, while the links list said "Shows from"."""
    page = new_page()
    sign_up(page, live_server, "sam.schedule")
    made = page.evaluate(
        """async () => {
          const token = document.querySelector('meta[name="csrf-token"]').content;
          const link = {title: "Later", url: "https://later.example/", starts_at: "2099-01-01T10:00:00Z"};
          const headers = {"Content-Type": "application/json", "X-CSRFToken": token};
          const answer = await fetch("/api/add/link", {method: "POST", headers, body: JSON.stringify(link)});
          return answer.status;
        }"""
    )
    assert made == 201
    page.reload()
    link_state = page.locator("#links .link-item .link-state")
    block_state = page.locator("#blocks .link-item .link-state")
    expect(link_state).to_contain_text("Shows from")
    expect(block_state).to_contain_text("Shows from")


def test_an_answer_that_comes_late_never_pulls_the_focus_back(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    """Hide a link, then go on typing in the add form before the server answers: the answer draws the row
    as hidden and leaves the focus (and what is typed) where the person went. Deleting likewise."""
    live = live_server
    page = new_page()
    sign_up(page, live, "hal.late")
    add_link(page, "Blog", "https://example.com/blog")
    add_link(page, "Shop", "https://example.com/shop")
    held: list[tuple[Route, APIResponse]] = []

    def hold(route: Route) -> None:  # the server saves now; its answer reaches the page later
        held.append((route, route.fetch()))

    page.route("**/api/edit/link/*", hold)
    link_row(page, "Blog").get_by_role("button", name="Hide link Blog").click()
    title = page.locator("#add-link").get_by_label("Title", exact=True)
    title.click()
    title.type("News")
    for _ in range(100):  # the handler runs while Playwright waits
        if held:
            break
        page.wait_for_timeout(100)
    route, answer = held[0]
    route.fulfill(response=answer)
    expect(link_row(page, "Blog").locator(".link-state")).to_have_text("Hidden")
    expect(title).to_be_focused()
    title.type(" today")
    expect(title).to_have_value("News today")

    page.on("dialog", lambda dialog: dialog.accept())
    page.route("**/api/delete/link/*", hold)
    link_row(page, "Shop").get_by_role("button", name="Delete link Shop").click()
    page.locator("#add-link").get_by_label("URL", exact=True).click()
    for _ in range(100):
        if len(held) == 2:
            break
        page.wait_for_timeout(100)
    route, answer = held[1]
    route.fulfill(response=answer)
    expect(link_row(page, "Shop")).to_have_count(0)
    expect(page.locator("#add-link").get_by_label("URL", exact=True)).to_be_focused()


def before_content(page: Page, selector: str) -> str:
    return str(page.locator(selector).evaluate("list => getComputedStyle(list, '::before').content"))


def test_a_list_still_loading_says_so_and_never_without_scripts(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    """On a slow connection the list was an empty box for seconds; with JavaScript off nothing loads, and
    the page's notice says why (no "Loading…" that never ends)."""
    live = live_server
    page = new_page()
    sign_up(page, live, "lou.slow")
    held: list[Route] = []
    released: list[bool] = []

    def hold(route: Route) -> None:  # until released: then every load the page asks for goes through
        if released:
            route.continue_()
        else:
            held.append(route)

    page.route("**/api/links", hold)
    page.goto(f"{live.url}/dashboard")
    for _ in range(100):  # the handler runs while Playwright waits
        if held:
            break
        page.wait_for_timeout(100)
    assert before_content(page, "#links") == '"Loading…"'
    released.append(True)
    for route in held:  # the page may have asked more than once (a change elsewhere asks again)
        route.continue_()
    expect(page.locator("#links")).not_to_have_attribute("aria-busy", "true")
    assert before_content(page, "#links") == "none"
    without = new_page(java_script_enabled=False, storage_state=page.context.storage_state())
    without.goto(f"{live.url}/dashboard")
    expect(without.locator("#needs-javascript")).to_be_visible()
    assert before_content(without, "#links") == "none"
