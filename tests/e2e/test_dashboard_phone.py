"""The signed-in pages on a phone, in Chromium's mobile emulation (390x844, touch): the navigation is one
line with a Menu that opens by tap and by keyboard and marks the current page; every button, link and
control is at least 44x44 px; Tab shows a focus ring; the skip link moves to the content; with JavaScript
off the dashboard says it needs it; and axe finds nothing on these pages.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.support.live_server import LiveServer

from .conftest import PageFactory, sign_up
from .test_admin_accessibility import axe_violations
from .test_core_flow import add_link

PHONE = {"width": 390, "height": 844}
MIN_TARGET = 44
PAGES = {
    "/dashboard": "Links",
    "/dashboard/products": "Products",
    "/dashboard/stats": "Stats",
    "/dashboard/signups": "Links",
    "/dashboard/settings": "Settings",
    "/settings/account": "Settings",
    "/settings/email": "Settings",
    "/settings/security": "Settings",
    "/subscriptions": "Plan",
}
"""The signed-in pages checked, with the navigation entry each one marks as current."""
TARGETS = """() => {
  const selector = "a, button, summary, select,"
    + " input:not([type=hidden]):not([type=checkbox]):not([type=radio]),"
    + " label:has(> input[type=checkbox]), label:has(> input[type=radio])";
  return [...document.querySelectorAll(selector)]
    .filter(element => element.checkVisibility() && !element.classList.contains("skip-link"))
    .map(element => {
      const box = element.getBoundingClientRect();
      const text = (element.getAttribute("aria-label") || element.textContent || element.name || "").trim();
      const what = `${element.tagName.toLowerCase()} "${text.slice(0, 40)}"`;
      return {what, width: box.width, height: box.height};
    });
}"""
RING = """() => {
  const element = document.activeElement;
  if (!element || element === document.body || element.dataset.ringed) return null;
  element.dataset.ringed = "yes";
  const style = getComputedStyle(element);
  let behind = element.parentElement, background = "rgb(255, 255, 255)";
  for (; behind; behind = behind.parentElement) {
    const colour = getComputedStyle(behind).backgroundColor;
    if (colour !== "rgba(0, 0, 0, 0)" && colour !== "transparent") { background = colour; break; }
  }
  const text = (element.getAttribute("aria-label") || element.textContent || element.name || "").trim();
  return {what: `${element.tagName.toLowerCase()} "${text.slice(0, 40)}"`, style: style.outlineStyle,
          width: parseFloat(style.outlineWidth), color: style.outlineColor, background};
}"""
"""The keyboard focus now: its outline and the background around it (its nearest ancestor's colour)."""
OUTLINE = """element => {
  const style = getComputedStyle(element);
  return {style: style.outlineStyle, width: parseFloat(style.outlineWidth), color: style.outlineColor};
}"""


def give_an_avatar(page: Page, live: LiveServer) -> None:
    """Upload an avatar through the settings form: the settings then show it and "Remove the avatar"."""
    image = io.BytesIO()
    Image.new("RGB", (96, 96), "teal").save(image, "PNG")
    page.goto(f"{live.url}/dashboard/settings")
    page.locator("#avatar").set_input_files(
        {"name": "me.png", "mimeType": "image/png", "buffer": image.getvalue()}
    )
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Remove the avatar")).to_be_visible()


def give_a_sign_up(page: Page, live: LiveServer) -> None:
    """Add a sign-up form through the API and sign up to it as a visitor: /dashboard/signups then lists
    an entry in its table (wider than a phone)."""
    page.goto(f"{live.url}/dashboard")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    added = page.request.post(
        f"{live.url}/api/blocks",
        data={"kind": "capture", "title": "My monthly letter"},
        headers={"X-CSRFToken": token},
    )
    assert added.status == 201, added.text()
    signed = page.request.post(
        f"{live.url}/capture/{added.json()['id']}",
        form={"name": "Vic Visitor", "email": "vic.visitor@example.com"},
        headers={"Origin": live.url},
    )
    assert signed.status == 200, signed.text()


def phone(new_page: PageFactory, **options: Any) -> Page:
    """A 390x844 touch phone (``is_mobile``, ``has_touch``)."""
    return new_page(phone=True, viewport=PHONE, **options)


def small_targets(page: Page) -> list[str]:
    """Each visible button, link or control smaller than 44x44 px, with its size."""
    return [
        f"{page.url}: {target['what']} is {target['width']:.0f}x{target['height']:.0f} px"
        for target in page.evaluate(TARGETS)
        if target["width"] < MIN_TARGET - 0.5 or target["height"] < MIN_TARGET - 0.5
    ]


def luminance(rgb: str) -> float:
    """The relative luminance of a CSS ``rgb(r, g, b)`` colour."""
    parts = [int(float(part)) / 255 for part in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    linear = [part / 12.92 if part <= 0.03928 else ((part + 0.055) / 1.055) ** 2.4 for part in parts]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two CSS colours."""
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_phone_navigation_is_one_line_a_menu_that_opens_by_tap_and_keyboard(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    page = phone(new_page)
    sign_up(page, live_server, "ada.phone")
    for path, current in PAGES.items():
        page.goto(f"{live_server.url}{path}")
        bar = page.locator("header.topbar")
        menu = bar.locator("summary", has_text="Menu")
        nav = page.get_by_role("navigation", name="Main")
        expect(nav).to_be_hidden()
        brand = bar.locator(".brand").bounding_box()
        button = menu.bounding_box()
        bar_box = bar.bounding_box()
        assert brand and button and bar_box
        # One line: the brand and the Menu button sit side by side and the bar is one row high.
        assert abs(brand["y"] + brand["height"] / 2 - (button["y"] + button["height"] / 2)) < 4, path
        assert bar_box["height"] < 2 * MIN_TARGET, f"{path}: the bar is {bar_box['height']} px high"
        menu.tap()
        expect(nav).to_be_visible()
        expect(nav.locator('[aria-current="page"]')).to_have_count(1)
        expect(nav.locator('[aria-current="page"]')).to_have_text(current)
        menu.tap()
        expect(nav).to_be_hidden()
    # By keyboard: the menu is a real disclosure, reached by Tab and opened by Enter or Space.
    page.goto(f"{live_server.url}/dashboard")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the brand
    page.keyboard.press("Tab")
    expect(page.locator("summary", has_text="Menu")).to_be_focused()
    page.keyboard.press("Enter")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_visible()
    page.keyboard.press("Tab")
    expect(nav.get_by_role("link", name="Links")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")
    expect(nav).to_be_hidden()
    # A tap on an entry opens its page, which is then the one marked.
    page.locator("summary", has_text="Menu").tap()
    nav.get_by_role("link", name="Stats").tap()
    expect(page).to_have_url(f"{live_server.url}/dashboard/stats")
    # On a wide screen the same navigation is a row of links, always shown, with no Menu button.
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.locator("summary", has_text="Menu")).to_be_hidden()
    expect(nav).to_be_visible()
    expect(nav.locator('[aria-current="page"]')).to_have_text("Stats")


def test_every_button_link_and_control_is_a_44px_touch_target(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    page = phone(new_page)
    sign_up(page, live_server, "ada.targets")
    add_link(page, "Portfolio", "https://example.com/portfolio")
    give_an_avatar(page, live_server)
    give_a_sign_up(page, live_server)
    problems: list[str] = []
    for path in PAGES:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        problems.extend(small_targets(page))
        page.locator("summary", has_text="Menu").tap()
        problems.extend(small_targets(page))
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("width", [390, 320])
def test_no_signed_in_page_scrolls_sideways(
    live_server: LiveServer, new_page: PageFactory, width: int
) -> None:
    """The sessions table of /settings/security made the page 445 px wide, its words and its Log out
    button broken a letter a line (outside tester): a wide table scrolls inside its own region."""
    page = new_page(phone=True, viewport={"width": width, "height": 844})
    sign_up(page, live_server, f"ada.wide{width}")
    give_an_avatar(page, live_server)
    give_a_sign_up(page, live_server)
    wider: list[str] = []
    for path in PAGES:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            wider.append(f"{path}: {overflow} px wider than the screen")
    assert wider == [], "\n".join(wider)
    page.goto(f"{live_server.url}/settings/security")
    log_out = page.locator("table.sessions").get_by_role("button").first  # "Log out <its session>"
    box = log_out.bounding_box()
    assert box is not None and box["width"] >= box["height"], box  # a word, not a letter a line


def test_tab_shows_a_focus_ring_with_3_to_1_contrast_and_the_skip_link_moves_to_the_content(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    page = phone(new_page)
    sign_up(page, live_server, "ada.focus")
    add_link(page, "Portfolio", "https://example.com/portfolio")
    page.goto(f"{live_server.url}/dashboard")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate(OUTLINE)["style"] == "none"
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    ring = skip.evaluate(OUTLINE)
    assert ring["style"] == "solid" and ring["width"] >= 2, ring
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert contrast(ring["color"], background) >= 3, (ring, background)
    assert contrast(ring["color"], "rgb(255, 255, 255)") >= 3, ring
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    page.keyboard.press("Tab")
    first = page.evaluate("document.activeElement.closest('header')")
    assert first is None, "after the skip link, Tab goes on inside the content, not back to the header"
    # Every stop on these pages shows a solid ring of at least 2 px, with 3:1 contrast on what surrounds it.
    problems: list[str] = []
    for path in ("/dashboard", "/dashboard/settings", "/settings/account", "/subscriptions"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        page.locator("summary", has_text="Menu").tap()
        problems.extend(f"{path}: {line}" for line in weak_rings(page))
    assert problems == [], "\n".join(problems)


def weak_rings(page: Page, most: int = 200) -> list[str]:
    """Tab through the page from the top; one line for each stop whose focus ring is missing, thin, or
    under 3:1 against the background around it."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    lines: list[str] = []
    for _ in range(most):
        page.keyboard.press("Tab")
        stop = page.evaluate(RING)
        if stop is None:
            return lines
        ratio = contrast(stop["color"], stop["background"]) if stop["style"] != "none" else 0
        if stop["style"] == "none" or stop["width"] < 2 or ratio < 3:
            lines.append(f"{stop['what']}: outline {stop['style']} {stop['width']} px, contrast {ratio:.1f}")
    return lines + [f"more than {most} tab stops"]


def test_the_public_site_pages_start_with_the_skip_link_too(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    visitor = phone(new_page)
    for path in ("/", "/login"):
        visitor.goto(f"{live_server.url}{path}")
        visitor.keyboard.press("Tab")
        expect(visitor.get_by_role("link", name="Skip to content")).to_be_focused()
        visitor.keyboard.press("Enter")
        assert visitor.evaluate("document.activeElement.tagName") == "MAIN", path


def test_with_javascript_off_the_dashboard_says_so_and_links_the_settings(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    page = phone(new_page, java_script_enabled=False)
    sign_up(page, live_server, "ada.nojs")
    for path in ("/dashboard", "/dashboard/products", "/dashboard/stats"):  # the plans page is plain forms
        page.goto(f"{live_server.url}{path}")
        notice = page.locator("#needs-javascript")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("This page needs JavaScript")
        # Appearance is named too where this installation has its page (after profile).
        expect(notice).to_contain_text("you can still change your profile, ")
        expect(notice).to_contain_text("account settings, email address and password.")
    # The menu is a disclosure: it opens without JavaScript too.
    page.locator("summary", has_text="Menu").tap()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    page.locator("summary", has_text="Menu").tap()
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    page.locator("#needs-javascript").get_by_role("link", name="account settings").click()
    expect(page).to_have_url(f"{live_server.url}/settings/account")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    checker = phone(new_page, bypass_csp=True)
    assert axe_violations_without_javascript(page, checker, live_server) == []


def axe_violations_without_javascript(page: Page, checker: Page, live: LiveServer) -> list[str]:
    """axe on the dashboard as ``page`` (JavaScript off) renders it. axe needs JavaScript, so the rendered
    document is shown in ``checker`` (JavaScript on, same site) with its ``<noscript>`` content as plain
    markup and its scripts removed: what a browser without JavaScript shows."""
    page.goto(f"{live.url}/dashboard")
    markup = page.content()
    markup = re.sub(r"<script\b[^>]*>.*?</script>", "", markup, flags=re.S)
    markup = markup.replace("<noscript>", "<div>").replace("</noscript>", "</div>")
    checker.goto(f"{live.url}/login")
    checker.set_content(markup)
    expect(checker.locator("#needs-javascript")).to_be_visible()
    return axe_violations(checker)


def test_the_signed_in_pages_are_axe_clean_on_a_phone_with_the_menu_open_and_closed(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    page = phone(new_page, bypass_csp=True)
    sign_up(page, live_server, "ada.axe")
    add_link(page, "Portfolio", "https://example.com/portfolio")
    give_an_avatar(page, live_server)
    give_a_sign_up(page, live_server)
    problems: list[str] = []
    for path in PAGES:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        problems.extend(f"{path} [menu closed] {line}" for line in axe_violations(page))
        page.locator("summary", has_text="Menu").tap()
        problems.extend(f"{path} [menu open] {line}" for line in axe_violations(page))
    assert problems == [], "\n".join(problems)
