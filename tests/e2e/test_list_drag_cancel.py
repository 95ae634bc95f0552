"""A drag of a dashboard row that ends anywhere but on the list, as an outside tester met it: Escape, a drop
outside the list or outside the window, a pointer the browser took back. Each puts the row back, sends no
reorder, and leaves the focus on the row's handle with "Move cancelled" said in the status region."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Route, expect

from tests.support.live_server import LiveServer

from .conftest import DESKTOP_VIEWPORT, PageFactory
from .test_block_editor import STATUS
from .test_block_editor_fixes import link_row
from .test_core_flow import add_link, api_titles, drag, expect_titles, sign_up

TITLES = ["Alpha", "Beta", "Gamma"]
CANCELLED = "Move cancelled: the order is unchanged."
MOUSE = 1  # Chromium's pointerId for the mouse


def count_reorders(page: Page) -> list[str]:
    """Each reorder request the page sends (it still reaches the server), in a list the test reads."""
    sent: list[str] = []

    def note(route: Route) -> None:
        sent.append(route.request.url)
        route.continue_()

    page.route("**/api/links/reorder", note)
    return sent


def three_links(live: LiveServer, new_page: PageFactory, username: str) -> tuple[Page, list[str]]:
    """A new account's dashboard with the links Alpha, Beta and Gamma, and the reorders it sends from now."""
    page = new_page()
    sign_up(page, live, username)
    for title in TITLES:
        add_link(page, title, f"https://example.com/{title.lower()}")
    return page, count_reorders(page)


def start_drag(page: Page) -> None:
    """Press the mouse on Alpha's handle and move it below Gamma: the list shows Beta, Gamma, Alpha."""
    expect(page.locator("#links")).not_to_have_attribute("aria-busy", "true")
    page.locator("#links").evaluate("list => list.scrollIntoView({block: 'center'})")
    grip = link_row(page, "Alpha").locator(".grip").bounding_box()
    target = link_row(page, "Gamma").bounding_box()
    assert grip is not None and target is not None
    page.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
    page.mouse.down()
    page.mouse.move(target["x"] + target["width"] / 2, target["y"] + target["height"] - 4, steps=8)
    expect_titles(page, ["Beta", "Gamma", "Alpha"])  # on its way


def drop_at(x: float, y: float) -> Callable[[Page], None]:
    """End the drag by letting go at (x, y) of the window, after moving there."""

    def end(page: Page) -> None:
        page.mouse.move(x, y, steps=4)
        page.mouse.up()

    return end


def pointer_taken_back(page: Page) -> None:
    """The browser takes the pointer back (a pointercancel), then the mouse is let go on the list."""
    page.locator("#links").dispatch_event(
        "pointercancel", {"pointerId": MOUSE, "isPrimary": True, "pointerType": "mouse"}
    )
    page.mouse.up()


def escape(page: Page) -> None:
    """Escape, then the mouse let go where the row was dragged to."""
    page.keyboard.press("Escape")
    page.mouse.up()


def expect_cancelled(page: Page, live: LiveServer, reorders: list[str], how: str) -> None:
    expect_titles(page, TITLES)
    expect(link_row(page, "Alpha")).not_to_have_class(re.compile(r"\bdragging\b"))
    expect(link_row(page, "Alpha").get_by_role("button", name="Reorder link Alpha")).to_be_focused()
    expect(page.locator(STATUS)).to_have_text(CANCELLED)
    page.wait_for_timeout(500)  # for a reorder, had one been sent
    assert reorders == [], f"{how}: {reorders}"
    assert api_titles(page, live) == TITLES, how


WIDTH, HEIGHT = DESKTOP_VIEWPORT["width"], DESKTOP_VIEWPORT["height"]
ENDINGS = {
    "beside the list": drop_at(WIDTH - 4, HEIGHT / 2),
    "above the window": drop_at(WIDTH / 2, -40),
    "below the window": drop_at(WIDTH / 2, HEIGHT + 40),
    "a pointercancel": pointer_taken_back,
    "Escape": escape,
}


@pytest.mark.parametrize("how", ENDINGS)
def test_a_drag_ended_off_the_list_puts_the_row_back_and_saves_nothing(
    live_server: LiveServer, new_page: PageFactory, how: str
) -> None:
    """A drop outside the list (beside it, above or below the window), a pointercancel and Escape each
    cancel the drag: a drop or a pointercancel used to save the order the list showed, and Escape left the
    focus where it was with nothing said. A drag dropped on the list still saves."""
    live = live_server
    page, reorders = three_links(live, new_page, "dot.drop")
    start_drag(page)
    ENDINGS[how](page)
    expect_cancelled(page, live, reorders, how)

    page.reload()
    expect_titles(page, TITLES)
    drag(page, "Alpha", "Gamma", "below")
    expect_titles(page, ["Beta", "Gamma", "Alpha"])
    assert len(reorders) == 1, reorders
    assert api_titles(page, live) == ["Beta", "Gamma", "Alpha"]


def test_a_drop_just_past_the_last_row_still_places_it_last(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    """Letting go a little below the list (an overshoot while aiming at the end) is a drop on it: the row
    stays last and the order is saved, once."""
    live = live_server
    page, reorders = three_links(live, new_page, "dot.overshoot")
    start_drag(page)
    below = page.locator("#links").bounding_box()
    assert below is not None
    drop_at(below["x"] + below["width"] / 2, below["y"] + below["height"] + 16)(page)
    expect_titles(page, ["Beta", "Gamma", "Alpha"])
    expect(page.locator("#links")).not_to_have_attribute("aria-busy", "true")
    assert len(reorders) == 1, reorders
    assert api_titles(page, live) == ["Beta", "Gamma", "Alpha"]


def click_in_place(page: Page, x: float, y: float) -> None:
    page.mouse.click(x, y)


def wiggle_in_place(page: Page, x: float, y: float) -> None:
    """A press, a move of a few pixels down and back, and a release where it began."""
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 3, y + 6, steps=3)
    page.mouse.move(x, y, steps=3)
    page.mouse.up()


IN_PLACE = {"a click": click_in_place, "a small drag dropped where it began": wiggle_in_place}


@pytest.mark.parametrize("how", IN_PLACE)
def test_a_handle_clicked_or_dropped_in_place_keeps_the_focus_for_the_arrows(
    live_server: LiveServer, new_page: PageFactory, how: str
) -> None:
    """A click on a row's handle, or a drag let go where it began, sends nothing and leaves the focus on the
    handle, whose tooltip offers ↑ and ↓: the focus used to be on no element, so the arrows did nothing."""
    live = live_server
    page, reorders = three_links(live, new_page, "dot.still")
    expect(page.locator("#links")).not_to_have_attribute("aria-busy", "true")
    page.locator("#links").evaluate("list => list.scrollIntoView({block: 'center'})")
    handle = link_row(page, "Alpha").get_by_role("button", name="Reorder link Alpha")
    box = handle.bounding_box()
    assert box is not None
    IN_PLACE[how](page, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(handle).to_be_focused()
    expect(link_row(page, "Alpha")).not_to_have_class(re.compile(r"\bdragging\b"))
    page.wait_for_timeout(500)  # for a reorder, had one been sent
    assert reorders == [], how
    expect_titles(page, TITLES)

    with page.expect_response(lambda response: response.url.endswith("/api/links/reorder")):
        page.keyboard.press("ArrowDown")
    expect_titles(page, ["Beta", "Alpha", "Gamma"])
    expect(link_row(page, "Alpha").get_by_role("button", name="Reorder link Alpha")).to_be_focused()
    assert len(reorders) == 1, reorders
    assert api_titles(page, live) == ["Beta", "Alpha", "Gamma"]
