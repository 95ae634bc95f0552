"""The page-layout editor finished, in Chromium as a creator uses it on a phone and on a desktop: blocks
dragged by touch and by mouse, every action's feedback (a disabled button, "Saved", the server's error next
to its field), focus kept on the row, buttons named after their block, 44 px targets, every kind added
from the menu and seen on the public page, and editing with the keyboard alone."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page, Request, Route, expect

from tests.support.live_server import LiveServer

from .conftest import PageFactory, sign_up
from .test_admin_accessibility import axe_installed, axe_violations
from .test_blocks_dashboard import add_block, api_blocks, posted_block, rows
from .test_dashboard_phone import phone, small_targets, weak_rings

__all__ = ["axe_installed"]  # the fixture, used by name below

STATUS = "#action-status"


def titles(page: Page, live: LiveServer) -> list[str]:
    """The titles (or texts) of the page's blocks as GET /api/blocks answers them, in order."""
    return [block.get("title") or block.get("text") or block["kind"] for block in api_blocks(page, live)]


def row(page: Page, text: str) -> Locator:
    return rows(page).filter(has_text=text)


def add_headers(page: Page, *names: str) -> None:
    for name in names:
        add_block(page, "header", "Title", name)


def middle(box: dict[str, float] | None) -> tuple[float, float]:
    assert box is not None, "the element is not on screen"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def touch_drag(page: Page, start: tuple[float, float], end: tuple[float, float], steps: int = 10) -> None:
    """A finger pressed at ``start``, moved in steps to ``end`` and lifted: real touch events through the
    DevTools protocol, which Chromium turns into pointer events of type "touch"."""
    session = page.context.new_cdp_session(page)
    (x0, y0), (x1, y1) = start, end

    def touch(kind: str, points: list[dict[str, float]]) -> None:
        session.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", [{"x": x0, "y": y0}])
    for step in range(1, steps + 1):
        touch("touchMove", [{"x": x0 + (x1 - x0) * step / steps, "y": y0 + (y1 - y0) * step / steps}])
    touch("touchEnd", [])
    session.detach()


def reorder_saved(page: Page) -> Any:
    return page.expect_response(lambda response: response.url.endswith("/api/blocks/reorder"))


def test_a_block_is_dragged_by_touch_on_a_phone_and_the_order_is_saved(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    live = live_server
    page = phone(new_page)
    sign_up(page, live, "tia.touch")
    add_headers(page, "One", "Two", "Three")
    assert titles(page, live) == ["One", "Two", "Three"]
    page.locator("#blocks").evaluate("list => list.scrollIntoView({block: 'center'})")

    grip = row(page, "One").get_by_role("button", name="Reorder header One")
    box = grip.bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44, box  # a finger's target
    last = row(page, "Three").bounding_box()
    assert last is not None
    with reorder_saved(page) as answer:
        touch_drag(page, middle(box), (middle(box)[0], last["y"] + last["height"] - 4))
    assert answer.value.status == 200, answer.value.text()
    assert titles(page, live) == ["Two", "Three", "One"]
    expect(page.locator(STATUS)).to_contain_text("Saved")

    page.reload()  # the saved order, not only what the list showed
    expect(rows(page)).to_have_count(3)
    assert rows(page).locator(".link-url").all_inner_texts() == ["Two", "Three", "One"]

    # Every control of the rows, and the open edit form, is a 44x44 px touch target on the phone.
    row(page, "Two").get_by_role("button", name="Edit header Two").tap()
    assert small_targets(page) == []
    # And every stop of the keyboard on it shows a focus ring (the handles, the arrows, the edit form).
    assert weak_rings(page) == []


def test_a_block_is_dragged_with_the_mouse_on_a_desktop(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    live = live_server
    page = new_page()
    sign_up(page, live, "max.mouse")
    add_headers(page, "One", "Two", "Three")
    page.locator("#blocks").evaluate("list => list.scrollIntoView({block: 'center'})")
    grip = middle(row(page, "Three").locator(".grip").bounding_box())
    first = row(page, "One").bounding_box()
    assert first is not None
    with reorder_saved(page) as answer:
        page.mouse.move(*grip)
        page.mouse.down()
        page.mouse.move(grip[0], first["y"] + 4, steps=8)
        page.mouse.up()
    assert answer.value.status == 200, answer.value.text()
    assert titles(page, live) == ["Three", "One", "Two"]
    expect(row(page, "Three").get_by_role("button", name="Reorder header Three")).to_be_focused()

    # A drag dropped where it started saves nothing: the next request the page sends is the reorder of
    # the keys below (no wait for something that must not come).
    sent = api_writes(page)
    grip = middle(row(page, "One").locator(".grip").bounding_box())
    page.mouse.move(*grip)
    page.mouse.down()
    page.mouse.move(grip[0] + 30, grip[1] + 3, steps=4)
    page.mouse.up()

    # ↑ and ↓ on the focused handle move the block too.
    handle = row(page, "Two").get_by_role("button", name="Reorder header Two")
    handle.focus()
    with reorder_saved(page):
        page.keyboard.press("ArrowUp")
    assert [request.url for request in sent] == [f"{live.url}/api/blocks/reorder"]
    assert titles(page, live) == ["Three", "Two", "One"]
    expect(row(page, "Two").get_by_role("button", name="Reorder header Two")).to_be_focused()


def api_writes(page: Page) -> list[Request]:
    """Every request the page sends from now on that changes something through the API."""
    writes: list[Request] = []
    page.on(
        "request",
        lambda request: (
            writes.append(request) if "/api/" in request.url and request.method != "GET" else None
        ),
    )
    return writes


def test_every_action_gives_feedback_and_a_double_click_sends_one_request(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    live = live_server
    page = new_page()
    sign_up(page, live, "fay.feedback")
    page.goto(f"{live.url}/dashboard")
    form = page.locator("#add-block")
    writes = api_writes(page)

    # Adding: the button is disabled while the request runs; a double click adds one header.
    form.get_by_label("Kind of block").select_option("header")
    form.get_by_label("Title", exact=True).fill("About")
    held: list[Route] = []  # the server's answer is held back until the test has seen the button

    def hold(route: Route) -> None:
        held.append(route)

    page.route("**/api/blocks", hold)
    with page.expect_request(
        lambda request: request.url.endswith("/api/blocks") and request.method == "POST"
    ):
        form.get_by_role("button", name="Add block").dblclick()
    expect(form.get_by_role("button", name="Add block")).to_be_disabled()
    assert len(held) == 1, [route.request.url for route in held]
    held[0].continue_()
    page.unroute("**/api/blocks", hold)
    expect(page.locator(STATUS)).to_have_text("Saved: header About is added.")
    expect(form.get_by_role("button", name="Add block")).to_be_enabled()
    assert [(request.method, request.url) for request in writes] == [("POST", f"{live.url}/api/blocks")]
    assert titles(page, live) == ["About"]

    # Hiding: one request for a double click, then the row says it is hidden.
    writes.clear()
    row(page, "About").get_by_role("button", name="Hide header About").dblclick()
    expect(row(page, "About").locator(".link-state")).to_have_text("Hidden")
    expect(page.locator(STATUS)).to_have_text("Saved: header About is hidden.")
    # The second click came before the answer that says so: its request, had it been sent, would be here.
    assert [request.method for request in writes] == ["PATCH"]

    # A link with an address that is no URL: the server's words next to the URL field, which gets focus.
    form.get_by_label("Kind of block").select_option("link")
    form.get_by_label("Title", exact=True).fill("Portfolio")
    form.get_by_label("URL", exact=True).fill("http://not a host/")
    with page.expect_response(posted_block) as answer:
        form.get_by_role("button", name="Add block").click()
    assert answer.value.status == 422, answer.value.text()
    url = form.get_by_label("URL", exact=True)
    expect(url).to_be_focused()
    expect(url).to_have_attribute("aria-invalid", "true")
    said = answer.value.json()["error"]["message"]
    expect(form.locator(".field-error")).to_have_text(said[0].upper() + said[1:])
    expect(url).to_have_accessible_description(said[0].upper() + said[1:])
    expect(page.locator("#block-error")).to_have_text("")
    # Corrected, it is saved and the error goes.
    url.fill("https://example.com/work")
    with page.expect_response(posted_block) as answer:
        form.get_by_role("button", name="Add block").click()
    assert answer.value.status == 201, answer.value.text()
    expect(form.locator(".field-error")).to_have_count(0)
    expect(page.locator(STATUS)).to_have_text("Saved: link Portfolio is added.")

    # An embed the server refuses (not a video or track): its reason next to the field it names.
    row(page, "About").get_by_role("button", name="Show header About").click()
    form.get_by_label("Kind of block").select_option("embed")
    form.get_by_label("Link to the video or track").fill("https://example.com/video")
    form.get_by_role("button", name="Add block").click()
    error = form.locator(".field-error")
    expect(error).to_have_text(
        "Link to the video or track must be a link to a video or track on YouTube, Vimeo, Spotify or "
        "SoundCloud"
    )
    expect(form.get_by_label("Link to the video or track")).to_be_focused()

    # Editing in place: a refused title is shown in the row's form, next to the title.
    header = row(page, "About")
    header.get_by_role("button", name="Edit header About").click()
    header.get_by_label("Title").fill("   ")
    header.get_by_role("button", name="Save").click()
    expect(header.locator(".field-error")).to_have_text("Title may not be empty")
    expect(header.get_by_label("Title")).to_be_focused()
    header.get_by_label("Title").fill("About me")
    header.get_by_role("button", name="Save").click()
    expect(page.locator(STATUS)).to_have_text("Saved header About me.")
    assert titles(page, live) == ["About me", "Portfolio"]


def test_focus_stays_on_the_row_after_save_hide_cancel_and_delete(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    live = live_server
    page = new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_up(page, live, "fio.focus")
    add_headers(page, "One", "Two")
    add_block(page, "text", "Text", "Hello there")

    one = row(page, "One")
    one.get_by_role("button", name="Edit header One").click()
    expect(one.get_by_label("Title")).to_be_focused()
    one.get_by_label("Title").fill("First")
    one.get_by_role("button", name="Save").click()
    expect(row(page, "First").get_by_role("button", name="Edit header First")).to_be_focused()

    row(page, "First").get_by_role("button", name="Edit header First").click()
    row(page, "First").get_by_role("button", name="Cancel").click()
    expect(row(page, "First").get_by_role("button", name="Edit header First")).to_be_focused()
    expect(row(page, "First").locator(".link-edit")).to_be_hidden()

    row(page, "Two").get_by_role("button", name="Hide header Two").click()
    expect(row(page, "Two").get_by_role("button", name="Show header Two")).to_be_focused()

    row(page, "First").get_by_role("button", name="Delete header First").click()
    expect(row(page, "Two").get_by_role("button", name="Reorder header Two")).to_be_focused()  # not Delete
    row(page, "Hello there").get_by_role("button", name="Delete text block Hello there").click()
    expect(row(page, "Two").get_by_role("button", name="Reorder header Two")).to_be_focused()  # none after
    row(page, "Two").get_by_role("button", name="Delete header Two").click()
    expect(rows(page)).to_have_count(0)
    expect(page.locator("#add-block").get_by_label("Kind of block")).to_be_focused()
    assert api_blocks(page, live) == []


def test_every_kind_is_added_from_the_menu_and_shown_on_the_public_page(
    live_server: LiveServer, new_page: PageFactory, axe_installed: None
) -> None:
    live = live_server
    page = new_page(bypass_csp=True)  # for axe's script
    sign_up(page, live, "kim.kinds")
    page.goto(f"{live.url}/dashboard")
    form = page.locator("#add-block")
    menu = form.get_by_label("Kind of block")
    assert menu.locator("option").evaluate_all("options => options.map(option => option.value)")[:7] == [
        "link",
        "product",
        "header",
        "text",
        "divider",
        "embed",
        "social",
    ]

    def add(kind: str, **fields: str) -> None:
        count = rows(page).count()
        menu.select_option(kind)
        for label, value in fields.items():
            form.get_by_label(label.replace("_", " "), exact=True).fill(value)
        with page.expect_response(posted_block) as answer:
            form.get_by_role("button", name="Add block").click()
        assert answer.value.status == 201, answer.value.text()
        # The editor has drawn it (and put the menu back on its kind) before the next kind is chosen.
        expect(rows(page)).to_have_count(count + 1)
        expect(form.get_by_role("button", name="Add block")).to_be_enabled()

    add("header", Title="Find me")
    add("link", Title="Portfolio", URL="https://example.com/work")
    add("text", Text="Made in Lisbon")
    add("divider")
    add("embed", Link_to_the_video_or_track="https://vimeo.com/76979871", Title="My talk")
    menu.select_option("social")
    form.get_by_label("Network").select_option("github")
    form.get_by_label("Handle or profile address").fill("kim")
    with page.expect_response(posted_block) as answer:
        form.get_by_role("button", name="Add block").click()
    assert answer.value.status == 201, answer.value.text()
    expect(rows(page)).to_have_count(6)  # drawn before the next add counts the rows
    expect(form.get_by_role("button", name="Add block")).to_be_enabled()
    add(
        "product",
        Title="Zine",
        Description="A4, 24 pages",
        **{
            "Price (such as 12.50)": "12.50",
            "Currency (three letters)": "EUR",
            "Link to buy it": "https://shop.example.com/zine",
        },
    )
    kinds = [block["kind"] for block in api_blocks(page, live)]
    assert kinds == ["header", "link", "text", "divider", "embed", "social", "product"]
    expect(rows(page)).to_have_count(7)
    expect(page.locator("#links .link-item")).to_have_count(1)  # the link reached the links list too

    # Each kind's row is named after its block, and edits in place: the product's price here.
    zine = row(page, "Zine")
    zine.get_by_role("button", name="Edit product Zine").click()
    zine.get_by_label("Price (such as 12.50)").fill("9.90")
    zine.get_by_role("button", name="Save").click()
    expect(page.locator(STATUS)).to_have_text("Saved product Zine.")
    assert api_blocks(page, live)[-1]["price"] == 990

    visitor = new_page()
    visitor.goto(f"{live.url}/kim.kinds")
    expect(visitor.get_by_role("heading", level=2, name="Find me")).to_be_visible()
    expect(visitor.get_by_role("link", name="Portfolio")).to_be_visible()
    expect(visitor.locator(".block-text")).to_have_text("Made in Lisbon")
    expect(visitor.locator("hr.block-divider")).to_have_count(1)
    expect(visitor.get_by_role("link", name="My talk")).to_be_visible()
    expect(visitor.get_by_role("link", name="GitHub: kim")).to_have_attribute(
        "href", "https://github.com/kim"
    )
    expect(visitor.locator(".product-title")).to_have_text("Zine")
    expect(visitor.locator(".price")).to_contain_text("9.90")

    # axe on the dashboard with every kind in the layout, an edit form open and an error shown.
    row(page, "Made in Lisbon").get_by_role("button", name="Edit text block Made in Lisbon").click()
    menu.select_option("embed")
    form.get_by_label("Link to the video or track").fill("https://example.com/nope")
    form.get_by_role("button", name="Add block").click()
    expect(form.locator(".field-error")).to_be_visible()
    assert axe_violations(page) == []


FOCUSED_NAME = """within => {
  const element = document.activeElement;
  if (!element.closest(within)) return "";
  const label = element.labels && element.labels[0] && element.labels[0].textContent;
  return (element.getAttribute("aria-label") || label || element.textContent || "").trim();
}"""


def tab_to(page: Page, name: str, within: str = "#add-block, #blocks", most: int = 150) -> None:
    """Press Tab (only Tab) until the focus is on an element inside ``within`` whose accessible name
    starts with ``name`` (the links list above the layout has buttons of the same names)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED_NAME, within).startswith(name):
            return
    raise AssertionError(f"Tab never reached {name!r}")


def test_a_header_and_a_link_are_edited_with_the_keyboard_alone(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    live = live_server
    page = new_page()
    sign_up(page, live, "kai.keys")
    page.goto(f"{live.url}/dashboard")
    page.on("dialog", lambda dialog: dialog.accept())  # the browser's own "Delete …?" question, answered OK

    # The link: the menu's first kind, its fields filled by typing; Enter adds it.
    tab_to(page, "Kind of block")
    tab_to(page, "Title")
    page.keyboard.type("Portfolio")
    tab_to(page, "URL")
    page.keyboard.type("https://example.com/work")
    page.keyboard.press("Enter")
    expect(rows(page)).to_have_count(1)
    expect(page.locator("#add-block").get_by_label("Kind of block")).to_be_focused()

    # The header: typed into the menu of kinds (its type-ahead), then its title, then the Add button by Space.
    page.keyboard.type("Header")
    expect(page.locator("#add-block").get_by_label("Kind of block")).to_have_value("header")
    tab_to(page, "Title")
    page.keyboard.type("Work")
    tab_to(page, "Add block")
    page.keyboard.press("Space")
    expect(rows(page)).to_have_count(2)

    # Edit the link in place: Enter opens it, Escape cancels, Enter opens it again and Enter saves.
    tab_to(page, "Edit link Portfolio")
    page.keyboard.press("Enter")
    expect(row(page, "Portfolio").get_by_label("Title")).to_be_focused()
    page.keyboard.press("Escape")
    expect(row(page, "Portfolio").get_by_role("button", name="Edit link Portfolio")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.type(" and more")  # the caret is at the end of the title
    page.keyboard.press("Enter")
    expect(
        row(page, "Portfolio and more").get_by_role("button", name="Edit link Portfolio and more")
    ).to_be_focused()

    # Move it below the header with its Move down button, by Space.
    tab_to(page, "Move link Portfolio and more down")
    with reorder_saved(page):
        page.keyboard.press("Space")
    expect(
        row(page, "Portfolio and more").get_by_role("button", name="Move link Portfolio and more down")
    ).to_be_focused()
    assert [block["kind"] for block in api_blocks(page, live)] == ["header", "link"]
    assert api_blocks(page, live)[1]["title"] == "Portfolio and more"

    # Delete it; focus goes back to the row left (the header's handle, not its Delete).
    tab_to(page, "Delete link Portfolio and more")
    page.keyboard.press("Enter")
    expect(rows(page)).to_have_count(1)
    expect(row(page, "Work").get_by_role("button", name="Reorder header Work")).to_be_focused()
    assert [block["kind"] for block in api_blocks(page, live)] == ["header"]
