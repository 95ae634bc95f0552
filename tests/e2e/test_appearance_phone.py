"""Appearance on a 390x844 phone: an error under the background image is never covered by the preview
(outside tester: the preview, kept at the bottom of the screen while the form was edited, hid it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.live_server import LiveServer, run_live_server

from .conftest import PageFactory, sign_up

PHONE = {"width": 390, "height": 844}
UNCOVERED = """e => { const r = e.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
                      const top = document.elementFromPoint(x, y);
                      return y > 0 && y < innerHeight && !!top && (e === top || e.contains(top)); }"""


@pytest.fixture
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_live_server(tmp_path_factory.mktemp("appearance-phone")) as server:
        yield server


def uncovered_wherever_it_shows(page: Page, selector: str) -> dict[str, bool]:
    """Whether the middle of ``selector`` is the topmost element there, as the page opened and with the
    element scrolled to the bottom, the middle and the top of the screen (scrolling by hand gets it there)."""
    element = page.locator(selector)
    seen = {
        "as opened": bool(element.evaluate(UNCOVERED))
        or element.evaluate("e => e.getBoundingClientRect().top >= innerHeight")
    }
    for where in ("bottom", "middle", "top"):
        element.evaluate(
            """(e, where) => { const r = e.getBoundingClientRect();
                 const to = where === "bottom" ? r.bottom - innerHeight + 2
                          : where === "middle" ? r.top + r.height / 2 - innerHeight / 2 : r.top - 2;
                 window.scrollBy(0, to); }""",
            where,
        )
        seen[where] = bool(element.evaluate(UNCOVERED))
    return seen


def test_a_refused_background_image_is_not_covered_by_the_preview(
    live: LiveServer, new_page: PageFactory
) -> None:
    page = new_page(phone=True, viewport=PHONE)
    sign_up(page, live, "ann")
    page.goto(f"{live.url}/settings/appearance")
    page.get_by_label("An image (with a backdrop behind the text)").check()
    page.locator("#background_image").set_input_files(
        files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"These are notes, not a picture."}]
    )
    page.get_by_role("button", name="Save").click()
    error = page.locator("#background_image-errors p")
    expect(error).to_contain_text("This file is not an image we can read.")
    expect(error).to_be_visible()
    assert uncovered_wherever_it_shows(page, "#background_image-errors p") == dict.fromkeys(
        ("as opened", "bottom", "middle", "top"), True
    )


IN_VIEW = "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }"


@pytest.mark.parametrize(
    ("javascript", "upload", "message"),
    [
        (False, b"\0" * (9 * 1024 * 1024), "The image is larger than 8 MB."),
        (True, b"These are notes, not a picture.", "This file is not an image we can read."),
    ],
    ids=["9 MB without JavaScript", "not an image with JavaScript"],
)
def test_a_refused_upload_on_a_phone_is_summed_up_and_focused(
    live: LiveServer, new_page: PageFactory, javascript: bool, upload: bytes, message: str
) -> None:
    """The page drawn again opened at its top with the error far below, nothing said on top, the focus
    on the body (outside tester, 390x844 without JavaScript)."""
    page = new_page(phone=True, viewport=PHONE)
    sign_up(page, live, "ann")
    phone = new_page(
        phone=True, viewport=PHONE, java_script_enabled=javascript, storage_state=page.context.storage_state()
    )
    phone.goto(f"{live.url}/settings/appearance")
    phone.get_by_label("An image (with a backdrop behind the text)").check()
    phone.locator("#background_image").set_input_files(
        files=[{"name": "sky.png", "mimeType": "image/png", "buffer": upload}]
    )
    phone.get_by_role("button", name="Save").click()
    error = phone.locator("#background_image-errors p")
    expect(error).to_contain_text(message)
    summary = phone.get_by_role("alert").filter(has_text="Nothing was saved: 1 problem below.")
    expect(summary).to_have_count(1)
    expect(summary.get_by_role("link", name="Background image")).to_have_attribute(
        "href", "#background_image"
    )
    expect(phone.locator("#background_image")).to_be_focused()
    assert error.evaluate(IN_VIEW), "the error is outside the screen"
