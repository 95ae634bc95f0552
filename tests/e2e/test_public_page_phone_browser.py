"""The public page and the appearance preview on a 390x844 phone, where most visitors are (outside
tester): a background image shows around the page's blocks, and a display name of one 60-letter word
wraps in the preview as on the page."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import Locator, expect

from tests.support.live_server import LiveServer

from .conftest import PageFactory, sign_up
from .test_admin_accessibility import axe_violations
from .test_appearance_browser import axe_installed, creator, rgb  # noqa: F401 (a fixture)

PHONE = {"width": 390, "height": 844}
LONG_NAME = "W" * 60  # the longest display name the form takes, with no space to wrap at


def test_the_preview_wraps_a_long_display_name_as_the_page_does(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    page = new_page()
    sign_up(page, live_server, "ann")
    page.goto(f"{live_server.url}/dashboard/settings")
    page.get_by_label("Display name").fill(LONG_NAME)
    page.get_by_role("button", name="Save").first.click()
    expect(page.get_by_label("Display name")).to_have_value(LONG_NAME)
    phone = new_page(phone=True, viewport=PHONE, storage_state=page.context.storage_state())
    phone.goto(f"{live_server.url}/settings/appearance")
    name = phone.locator(".preview-name")
    expect(name).to_have_text(LONG_NAME)
    clipped = "e => [e.scrollWidth, e.clientWidth]"
    scroll_width, width = name.evaluate(clipped)
    assert scroll_width <= width, f"the name is {scroll_width} px wide in a {width} px preview"
    frame = phone.locator(".appearance-preview-frame")
    frame_scroll, frame_width = frame.evaluate(clipped)
    assert frame_scroll <= frame_width, "the preview scrolls sideways"
    visitor = new_page(phone=True, viewport=PHONE)
    visitor.goto(f"{live_server.url}/ann")
    assert visitor.locator("h1").evaluate(clipped)[0] <= PHONE["width"]  # the page wraps it


BLUE = (0, 0, 255)
THEME_BACKDROPS = {"ocean": "#eef5f8", "midnight": "#111318"}
"""A light and a dark theme, each with its own page colour as the backdrop (what the form offers)."""


def blue_jpeg() -> bytes:
    stream = io.BytesIO()
    Image.new("RGB", (600, 900), BLUE).save(stream, "JPEG")
    return stream.getvalue()


def is_blue(pixel: tuple[int, ...]) -> bool:
    red, green, blue = pixel[:3]
    return red < 40 and green < 40 and blue > 215


def between(above: Locator, below: Locator) -> tuple[float, float]:
    """The middle of the gap between two boxes, one above the other."""
    top, bottom = above.bounding_box(), below.bounding_box()
    assert top and bottom
    return top["x"] + top["width"] / 2, (top["y"] + top["height"] + bottom["y"]) / 2


def pixel_at(shot: Image.Image, x: float, y: float) -> tuple[int, ...]:
    scale = shot.width / PHONE["width"]
    return shot.getpixel((int(x * scale), int(y * scale)))  # type: ignore[return-value]


@pytest.mark.usefixtures("axe_installed")
@pytest.mark.parametrize("theme", sorted(THEME_BACKDROPS))
@pytest.mark.parametrize("style", ["Filled", "Outline"])
def test_on_a_phone_the_background_image_shows_around_readable_blocks(
    live_server: LiveServer, new_page: PageFactory, theme: str, style: str
) -> None:
    """At 390 px the page's column, opaque with the backdrop colour, covered the whole screen: the image
    was never seen. Now it shows beside the header and between the links; the text stays on the backdrop."""
    page = new_page()
    creator(page, live_server)
    page.goto(f"{live_server.url}/settings/appearance")
    page.get_by_label("Theme", exact=True).select_option(theme)
    page.get_by_label("An image (with a backdrop behind the text)").check()
    page.get_by_label("Background image (PNG, JPEG, WebP or GIF)").set_input_files(
        {"name": "blue.jpg", "mimeType": "image/jpeg", "buffer": blue_jpeg()}
    )
    page.get_by_label("Backdrop behind the text (keeps it readable on any image)").fill(
        THEME_BACKDROPS[theme]
    )
    page.get_by_label(style, exact=True).check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Appearance saved.")).to_be_visible()
    page.wait_for_load_state("networkidle")  # the image has come
    backdrop = rgb(THEME_BACKDROPS[theme])
    background = "e => getComputedStyle(e).backgroundColor"
    preview_links = page.locator(".preview-link")
    gap = between(preview_links.nth(0), preview_links.nth(1))
    preview = Image.open(
        io.BytesIO(page.screenshot(clip={"x": gap[0], "y": gap[1], "width": 1, "height": 1}))
    )
    assert is_blue(preview.getpixel((0, 0))), "the preview shows the image between its buttons, as the page"
    assert page.locator(".preview-name").evaluate(background) == backdrop

    visitor = new_page(phone=True, viewport=PHONE)
    visitor.goto(f"{live_server.url}/ann")
    visitor.wait_for_load_state("networkidle")  # the image has come
    shot = Image.open(io.BytesIO(visitor.screenshot()))
    header = visitor.locator(".profile").bounding_box()
    assert header
    beside_header = pixel_at(shot, 3, header["y"] + header["height"] / 2)
    between_links = pixel_at(
        shot, *between(visitor.locator(".links li").nth(0), visitor.locator(".links li").nth(1))
    )
    assert is_blue(beside_header), f"beside the header: {beside_header}"
    assert is_blue(between_links), f"between the links: {between_links}"

    assert visitor.locator(".profile").evaluate(background) == backdrop  # the name and bio
    assert visitor.locator(".links li").first.evaluate(background) == backdrop  # an outline button's text
    checker = new_page(  # axe is injected as an inline script
        phone=True, viewport=PHONE, bypass_csp=True, storage_state=page.context.storage_state()
    )
    for address in (f"{live_server.url}/ann", f"{live_server.url}/settings/appearance"):
        checker.goto(address)
        checker.wait_for_load_state("networkidle")
        assert axe_violations(checker) == [], address
