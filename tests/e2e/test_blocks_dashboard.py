"""The page layout in Chromium: headers and texts added from the menu of kinds, edited in place and moved
with the arrow buttons; each change checked in ``GET /api/blocks`` and on the public page."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page, Response, expect

from tests.support.live_server import LiveServer

from .conftest import PageFactory
from .test_admin_accessibility import axe_installed, check
from .test_core_flow import add_link, sign_up

__all__ = ["axe_installed"]  # the fixture, used by name below

BLOCKS = "#blocks"


def rows(page: Page) -> Locator:
    return page.locator(f"{BLOCKS} .block-item")


def posted_block(response: Response) -> bool:
    """Whether ``response`` answers a new block (not the list's GET of the same URL, sent on load)."""
    return response.url.endswith("/api/blocks") and response.request.method == "POST"


def add_block(page: Page, kind: str, field: str | None = None, value: str = "") -> None:
    """Pick ``kind`` in the menu, fill its field and add it; wait until the layout shows it."""
    form = page.locator("#add-block")
    expect(page.locator(BLOCKS)).not_to_have_attribute("aria-busy", "true")  # the rows it has are drawn
    count = rows(page).count()
    form.get_by_label("Kind of block").select_option(kind)
    if field is not None:
        form.get_by_label(field, exact=True).fill(value)
    with page.expect_response(posted_block) as answer:
        form.get_by_role("button", name="Add block").click()
    assert answer.value.status == 201, answer.value.text()
    expect(rows(page)).to_have_count(count + 1)
    expect(page.locator("#block-error")).to_have_text("")


def api_blocks(page: Page, live: LiveServer) -> list[dict[str, Any]]:
    response = page.request.get(f"{live.url}/api/blocks", headers={"Accept": "application/json"})
    assert response.status == 200, response.text()
    return response.json()  # type: ignore[no-any-return]


def test_a_header_and_a_text_are_added_edited_and_moved_from_the_dashboard(
    live_server: LiveServer, new_page: PageFactory, axe_installed: None
) -> None:
    live = live_server
    page = new_page(bypass_csp=True)  # for axe's script, added at the end
    sign_up(page, live, "ada.blocks")
    page.goto(f"{live.url}/dashboard")
    add_link(page, "Portfolio", "https://example.com/work")
    expect(rows(page)).to_have_count(1)  # the new link reached the layout without a reload

    add_block(page, "header", "Title", "My work")
    add_block(page, "text", "Text", "First line\nSecond <b>line</b>")
    assert [block["kind"] for block in api_blocks(page, live)] == ["link", "header", "text"]

    # The header moves above the link with its arrow button, named after the block it moves.
    header = rows(page).filter(has_text="My work")
    with page.expect_response(lambda response: response.url.endswith("/api/blocks/reorder")) as answer:
        header.get_by_role("button", name="Move header My work up").click()
    assert answer.value.status == 200, answer.value.text()
    expect(rows(page).first).to_contain_text("My work")
    assert [block["kind"] for block in api_blocks(page, live)] == ["header", "link", "text"]

    # The text is edited in place.
    text = rows(page).filter(has_text="First line")
    text.get_by_role("button", name="Edit").click()
    text.get_by_label("Text", exact=True).fill("Only line")
    with page.expect_response(lambda response: "/api/blocks/" in response.url) as answer:
        text.get_by_role("button", name="Save").click()
    assert answer.value.status == 200, answer.value.text()
    expect(rows(page).nth(2)).to_contain_text("Only line")

    # The links list still works beside it.
    expect(page.locator("#links .link-item")).to_have_count(1)

    visitor = new_page(bypass_csp=True)
    visitor.goto(f"{live.url}/ada.blocks")
    expect(visitor.get_by_role("heading", level=2, name="My work")).to_be_visible()
    order = visitor.locator(".block-header, a.link, .block-text").all_inner_texts()
    assert order == ["My work", "Portfolio", "Only line"]

    # Both pages stay accessible with blocks on them (axe-core's WCAG A/AA rules, keyboard focus).
    add_block(page, "divider")
    add_block(page, "embed", "Link to the video or track", "https://vimeo.com/76979871")
    problems: list[str] = []
    check(page, problems, "/dashboard with blocks")
    visitor.reload()
    check(visitor, problems, "public page with blocks")
    assert not problems, "\n".join(problems)


def test_an_embed_loads_its_player_only_after_a_click(live_server: LiveServer, new_page: PageFactory) -> None:
    live = live_server
    page = new_page()
    sign_up(page, live, "lin.embeds")
    page.goto(f"{live.url}/dashboard")
    form = page.locator("#add-block")
    form.get_by_label("Kind of block").select_option("embed")
    form.get_by_label("Link to the video or track").fill("https://www.youtube.com/watch?v=dQw4w9WgXcQ")
    form.get_by_label("Title", exact=True).fill("My talk")
    with page.expect_response(posted_block) as answer:
        form.get_by_role("button", name="Add block").click()
    assert answer.value.status == 201, answer.value.text()
    expect(rows(page)).to_have_count(1)

    visitor = new_page()
    elsewhere: list[str] = []

    def record(route: Any) -> None:
        """Keep the page on this site: note and refuse any request to another host."""
        if route.request.url.startswith(live.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    visitor.route("**/*", record)
    visitor.goto(f"{live.url}/lin.embeds")
    card = visitor.get_by_role("link", name="My talk")
    expect(card).to_be_visible()
    expect(visitor.locator("iframe")).to_have_count(0)
    visitor.wait_for_load_state("networkidle")
    assert elsewhere == []  # nothing reached YouTube before the click

    card.click()
    frame = visitor.locator("figure.embed iframe")
    expect(frame).to_have_attribute("src", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1")
    expect(frame).to_have_attribute("title", "My talk")
    assert visitor.url == f"{live.url}/lin.embeds"  # the card did not navigate away
