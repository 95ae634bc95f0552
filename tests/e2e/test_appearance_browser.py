"""Appearance in Chromium: every theme's public page is axe-clean (the auto theme in both schemes, and a page
with overrides), the settings preview follows the form live and without JavaScript, the Web Share button
appears only where the browser can share, and error pages are styled, with no CSP violation anywhere."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Locator, Page, expect

from conexoos.app.controllers.themes import THEMES
from tests.support.live_server import LiveServer, run_live_server

from .conftest import PHONE_VIEWPORT, PageFactory, sign_up
from .test_admin_accessibility import axe_violations

pytestmark = pytest.mark.usefixtures("axe_installed")


@pytest.fixture
def axe_installed() -> None:
    """axe-core as test_admin_accessibility.py requires it (skipped or failed with the fix)."""
    from .test_admin_accessibility import AXE_SCRIPT, REQUIRE_SERVICES

    if not AXE_SCRIPT.is_file():
        reason = f"axe-core is missing: run `npm ci` in {AXE_SCRIPT.parents[2]} (scripts/test does)"
        if REQUIRE_SERVICES:
            pytest.fail(f"{reason} (CONEXOOS_REQUIRE_SERVICES=1)")
        pytest.skip(reason)


@pytest.fixture
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_live_server(tmp_path_factory.mktemp("appearance")) as server:
        yield server


def csp_violations(page: Page) -> list[str]:
    """Collect the console's Content-Security-Policy complaints of ``page`` from now on."""
    found: list[str] = []

    def seen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            found.append(message.text)

    page.on("console", seen)
    return found


def creator(page: Page, live: LiveServer, username: str = "ann") -> None:
    """Sign ``username`` up and log in, then add two links through the API, as the dashboard does."""
    sign_up(page, live, username)
    page.goto(f"{live.url}/dashboard")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    for title in ("My shop", "My music"):
        answer = page.request.post(
            f"{live.url}/api/add/link",
            data=json.dumps({"title": title, "url": "https://example.com/"}),
            headers={"X-CSRFToken": token, "Content-Type": "application/json", "Accept": "application/json"},
        )
        assert answer.status == 201, answer.text()


def choose_theme(page: Page, live: LiveServer, theme: str) -> None:
    page.goto(f"{live.url}/settings/appearance")
    page.get_by_label("Theme", exact=True).select_option(theme)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Appearance saved.")).to_be_visible()


def test_every_theme_page_is_axe_clean(live: LiveServer, new_page: PageFactory) -> None:
    page = new_page()
    creator(page, live)
    checker = new_page(bypass_csp=True)  # axe is injected as an inline script
    strict = new_page()
    complaints = csp_violations(strict)
    problems: list[str] = []
    for theme in THEMES:
        choose_theme(page, live, theme)
        strict.goto(f"{live.url}/ann")
        expected = THEMES[theme].palettes[0]["--page"]
        assert strict.evaluate("getComputedStyle(document.body).backgroundColor") == rgb(expected), theme
        checker.goto(f"{live.url}/ann")
        schemes = ("light", "dark") if theme == "auto" else ("light",)
        for scheme in schemes:
            checker.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
            for viewport in ({"width": 1280, "height": 800}, PHONE_VIEWPORT):
                checker.set_viewport_size(viewport)
                problems += [
                    f"{theme} {scheme} {viewport['width']}: {line}" for line in axe_violations(checker)
                ]
                checker.reload()
    assert problems == []
    assert complaints == []


def rgb(colour: str) -> str:
    """``#rgb``/``#rrggbb`` as getComputedStyle writes it."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(2 * char for char in digits)
    red, green, blue = (int(digits[index : index + 2], 16) for index in (0, 2, 4))
    return f"rgb({red}, {green}, {blue})"


def test_a_page_with_overrides_is_styled_by_them_and_axe_clean(
    live: LiveServer, new_page: PageFactory
) -> None:
    page = new_page()
    creator(page, live)
    page.goto(f"{live.url}/settings/appearance")
    page.get_by_label("A gradient of two colours").check()
    page.get_by_label("Background colour (the gradient starts with it)").fill("#fef3c7")
    page.get_by_label("The gradient's second colour").fill("#e0f2fe")
    page.get_by_label("My own colours").check()
    page.get_by_label("Text", exact=True).fill("#111111")
    page.get_by_label("Buttons", exact=True).fill("#1d4ed8")
    page.get_by_label("Text on buttons").fill("#ffffff")
    page.get_by_label("Outline").check()
    page.get_by_label("Square", exact=True).check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Appearance saved.")).to_be_visible()
    visitor = new_page()
    complaints = csp_violations(visitor)
    visitor.goto(f"{live.url}/ann")
    body = visitor.evaluate("getComputedStyle(document.body).backgroundImage")
    assert "linear-gradient" in body and "254, 243, 199" in body
    link = visitor.get_by_role("link", name="My shop")
    assert link.evaluate("element => getComputedStyle(element).backgroundColor") == "rgba(0, 0, 0, 0)"
    assert link.evaluate("element => getComputedStyle(element).color") == "rgb(29, 78, 216)"
    assert visitor.locator(".avatar").evaluate("element => getComputedStyle(element).borderRadius") == "0px"
    assert complaints == []
    checker = new_page(bypass_csp=True)  # axe is injected as an inline script
    checker.goto(f"{live.url}/ann")
    assert axe_violations(checker) == []


def test_the_preview_follows_the_form_and_refuses_poor_contrast(
    live: LiveServer, new_page: PageFactory
) -> None:
    page = new_page()
    creator(page, live)
    complaints = csp_violations(page)
    page.goto(f"{live.url}/settings/appearance")
    preview = page.locator("#appearance-preview")
    expect(page.get_by_label("Background colour (the gradient starts with it)")).to_be_hidden()
    page.get_by_label("One colour").check()
    page.get_by_label("Background colour (the gradient starts with it)").fill("#102030")
    expect(preview).to_have_css("background-color", "rgb(16, 32, 48)")
    beside = page.locator("#background_color-errors")  # next to the field that made it fail
    expect(beside).to_contain_text("Text on background: 1:1, needs 4.5:1")
    expect(page.locator("#background_color")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("My own colours").check()
    page.get_by_label("Text", exact=True).fill("#f5f5f5")
    expect(preview).to_have_css("color", "rgb(245, 245, 245)")
    expect(beside).to_be_empty()
    expect(page.locator("#background_color")).to_have_attribute("aria-invalid", "false")
    page.get_by_label("Rounded square").check()
    expect(page.locator(".preview-avatar")).to_have_css("border-radius", "22%")
    page.get_by_label("Text", exact=True).fill("#203040")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#contrast-errors")).to_contain_text("needs 4.5:1")
    visitor = new_page()
    visitor.goto(f"{live.url}/ann")
    assert visitor.locator("style").count() == 0  # nothing was saved
    assert complaints == []
    checker = new_page(bypass_csp=True, storage_state=page.context.storage_state())
    checker.goto(f"{live.url}/settings/appearance")
    assert axe_violations(checker) == []


def test_the_preview_button_works_without_javascript(live: LiveServer, new_page: PageFactory) -> None:
    page = new_page()
    creator(page, live)
    no_script = new_page(java_script_enabled=False, storage_state=page.context.storage_state())
    no_script.goto(f"{live.url}/settings/appearance")
    no_script.get_by_label("One colour").check()
    no_script.get_by_label("Background colour (the gradient starts with it)").fill("#fdf6e3")
    no_script.get_by_role("button", name="Preview").click()
    expect(no_script.locator("#appearance-preview")).to_have_css("background-color", "rgb(253, 246, 227)")
    visitor = new_page()
    visitor.goto(f"{live.url}/ann")
    assert visitor.locator("style").count() == 0  # a preview saves nothing


def test_the_share_button_appears_only_where_the_browser_can_share(
    live: LiveServer, new_page: PageFactory
) -> None:
    page = new_page()
    creator(page, live)
    without = new_page()
    without.add_init_script("delete Navigator.prototype.share; delete navigator.share;")
    without.goto(f"{live.url}/ann")
    without.wait_for_load_state("load")
    expect(without.get_by_role("button", name="Share this page")).to_have_count(0)
    sharing = new_page(bypass_csp=True)  # for axe, injected as an inline script
    sharing.add_init_script("navigator.share = data => { window.shared = data; return Promise.resolve(); };")
    sharing.goto(f"{live.url}/ann")
    share = sharing.get_by_role("button", name="Share this page")
    box = share.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44, box  # a touch target
    sharing.keyboard.press("Tab")  # focus from the keyboard shows the theme's ring, not the browser's
    for _ in range(20):
        if share.evaluate("button => button === document.activeElement"):
            break
        sharing.keyboard.press("Tab")
    ring = share.evaluate(
        "b => { const s = getComputedStyle(b); return [s.outlineStyle, s.outlineWidth, s.outlineColor,"
        " getComputedStyle(document.body).getPropertyValue('--focus').trim()]; }"
    )
    assert ring[:2] == ["solid", "3px"], ring
    focus = sharing.evaluate(
        "c => { const e = document.createElement('i'); e.style.color = c; document.body.append(e);"
        " const v = getComputedStyle(e).color; e.remove(); return v; }",
        ring[3],
    )
    assert ring[2] == focus, ring  # the theme's --focus colour
    share.click()
    assert sharing.evaluate("window.shared") == {"title": "ann", "url": f"{live.url}/ann"}
    assert axe_violations(sharing) == []


@pytest.mark.parametrize("path", ["/no/such/page", "/go/999999"])
def test_error_pages_are_styled_without_a_csp_violation(
    live: LiveServer, new_page: PageFactory, path: str
) -> None:
    page = new_page()
    complaints = csp_violations(page)
    response = page.goto(f"{live.url}{path}")
    assert response is not None and response.status == 404
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "system-ui" in font and "Times" not in font
    expect(page.locator("header.topbar")).to_be_visible()
    assert complaints == []
    checker = new_page(bypass_csp=True)
    checker.goto(f"{live.url}{path}")
    assert axe_violations(checker) == []


def in_view(page: Page, selector: str) -> bool:
    """Whether the middle of the element ``selector`` is on the screen and not covered by another."""
    return bool(
        page.eval_on_selector(
            selector,
            """e => { const r = e.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
                      const top = document.elementFromPoint(x, y);
                      return y > 0 && y < innerHeight && !!top && (e.contains(top) || top.contains(e)); }""",
        )
    )


def test_on_a_phone_errors_sit_by_their_field_and_nothing_covers_them(
    live: LiveServer, new_page: PageFactory
) -> None:
    page = new_page()
    creator(page, live)
    phone = new_page(phone=True, storage_state=page.context.storage_state())
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(f"{live.url}/settings/appearance")
    for radio in phone.locator(".choices input[type=radio]").all():
        box = radio.bounding_box()
        assert box is not None and box["width"] >= 24 and box["height"] >= 24, (
            radio.get_attribute("value"),
            box,
        )
    radius = phone.get_by_label("Button corners, in pixels", exact=False)
    radius.fill("40")
    message = phone.locator("#corner_radius-errors")
    expect(message).to_contain_text("from 0 to 32")
    expect(radius).to_have_attribute("aria-invalid", "true")
    message.scroll_into_view_if_needed()
    assert in_view(phone, "#corner_radius-errors")
    radius.fill("8")
    expect(message).to_be_empty()
    phone.get_by_label("One colour").check()
    colour = phone.get_by_label("Background colour (the gradient starts with it)")
    colour.fill("#102030")
    expect(phone.locator("#background_color-errors")).to_contain_text("needs 4.5:1")
    phone.locator("#background_color-errors").scroll_into_view_if_needed()
    assert in_view(phone, "#background_color-errors")


def test_a_product_card_shows_the_themes_focus_ring(live: LiveServer, new_page: PageFactory) -> None:
    """Links had the theme's 3 px ring; a product card had only the browser's thin default."""
    page = new_page()
    creator(page, live, "pam")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    product = {"title": "Zine", "price": 1250, "currency": "EUR", "buy_url": "https://shop.example/zine"}
    answer = page.request.post(
        f"{live.url}/api/add/product",
        data=json.dumps(product),
        headers={"X-CSRFToken": token, "Content-Type": "application/json", "Accept": "application/json"},
    )
    assert answer.status == 201, answer.text()
    visitor = new_page()
    visitor.goto(f"{live.url}/pam")
    card = visitor.locator(".products .product").first
    for _ in range(30):
        visitor.keyboard.press("Tab")
        if card.evaluate("c => c === document.activeElement"):
            break
    ring = card.evaluate("c => { const s = getComputedStyle(c); return [s.outlineStyle, s.outlineWidth]; }")
    assert ring == ["solid", "3px"], ring


def focus_by_tab(page: Page, target: Locator) -> None:
    """Press Tab until ``target`` has the keyboard focus (so ``:focus-visible`` applies)."""
    for _ in range(30):
        page.keyboard.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            return
    raise AssertionError("Tab never reached the element")


def test_a_lock_page_wears_the_creators_theme_with_a_visible_button_and_focus_ring(
    live: LiveServer, new_page: PageFactory
) -> None:
    """The lock page loaded public.css alone: under a dark theme its Continue button had no background or
    border (bare text) and no focus ring, ``var(--focus)`` being undefined (outside tester)."""
    page = new_page()
    creator(page, live, "lou")
    choose_theme(page, live, "midnight")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    answer = page.request.post(
        f"{live.url}/api/add/link",
        data=json.dumps({"title": "Late show", "url": "https://late.example/", "sensitive": True}),
        headers={"X-CSRFToken": token, "Content-Type": "application/json", "Accept": "application/json"},
    )
    assert answer.status == 201, answer.text()
    visitor = new_page()
    complaints = csp_violations(visitor)
    visitor.goto(f"{live.url}/go/{answer.json()['id']}")
    palette = THEMES["midnight"].palettes[0]
    assert visitor.evaluate("getComputedStyle(document.body).backgroundColor") == rgb(palette["--page"])
    button = visitor.get_by_role("button", name="Continue")
    background = button.evaluate("b => getComputedStyle(b).backgroundColor")
    assert background == rgb(palette["--button"]), background  # a filled button, not bare text
    focus_by_tab(visitor, button)
    ring = button.evaluate(
        "b => { const s = getComputedStyle(b); return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }"
    )
    assert ring == ["solid", "3px", rgb(palette["--focus"])], ring
    assert complaints == []


def add_through_api(page: Page, live: LiveServer, path: str, body: dict[str, object]) -> int:
    """Post ``body`` to the JSON API as the signed-in ``page``; the new item's id."""
    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    answer = page.request.post(
        f"{live.url}{path}",
        data=json.dumps(body),
        headers={"X-CSRFToken": token, "Content-Type": "application/json", "Accept": "application/json"},
    )
    assert answer.status == 201, answer.text()
    return int(answer.json()["id"])


def test_with_outline_buttons_the_sign_up_and_lock_buttons_keep_their_border(
    live: LiveServer, new_page: PageFactory
) -> None:
    """``.capture .link{border:0}`` with the outline style's transparent background left the sign-up
    button invisible, and ``font:inherit`` made it lighter than the link buttons (outside tester)."""
    page = new_page()
    creator(page, live, "oli")
    page.goto(f"{live.url}/settings/appearance")
    page.get_by_label("Outline").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Appearance saved.")).to_be_visible()
    add_through_api(
        page, live, "/api/blocks", {"kind": "capture", "title": "My letter", "button": "Count me in"}
    )
    link_id = add_through_api(
        page, live, "/api/add/link", {"title": "Late show", "url": "https://late.example/", "sensitive": True}
    )
    visitor = new_page()
    button_colour = rgb(THEMES["classic"].palettes[0]["--button"])
    for path, name in (("/oli", "Count me in"), (f"/go/{link_id}", "Continue")):
        visitor.goto(f"{live.url}{path}")
        button = visitor.get_by_role("button", name=name)
        look = button.evaluate(
            "b => { const s = getComputedStyle(b);"
            " return [s.borderTopStyle, s.borderTopWidth, s.borderTopColor, s.fontWeight]; }"
        )
        assert look == ["solid", "2px", button_colour, "600"], (path, look)
        if path == "/oli":  # as bold as the link buttons beside it
            assert visitor.locator("a.link").first.evaluate("a => getComputedStyle(a).fontWeight") == "600"


@pytest.mark.parametrize(
    "theme,scheme", [("midnight", "light"), ("dark", "light"), ("contrast", "light"), ("auto", "dark")]
)
def test_dark_themes_give_form_fields_a_dark_scheme(
    live: LiveServer, new_page: PageFactory, theme: str, scheme: str
) -> None:
    """Without ``color-scheme`` the sign-up's email field and the lock's password field stayed bright white
    on a dark page (outside tester)."""
    page = new_page()
    creator(page, live, "dee")
    choose_theme(page, live, theme)
    add_through_api(page, live, "/api/blocks", {"kind": "capture", "title": "My letter"})
    link_id = add_through_api(
        page,
        live,
        "/api/add/link",
        {"title": "Members", "url": "https://m.example/", "passcode": "open sesame"},
    )
    visitor = new_page(color_scheme=scheme)
    for path, label in (("/dee", "Email"), (f"/go/{link_id}", "Password")):
        visitor.goto(f"{live.url}{path}")
        field = visitor.get_by_label(label, exact=True)
        seen = field.evaluate(
            "f => { const s = getComputedStyle(f); return [s.colorScheme, s.backgroundColor]; }"
        )
        assert seen[0] == "dark" and seen[1] != "rgb(255, 255, 255)", (path, seen)
    if theme == "auto":
        light = new_page(color_scheme="light")
        light.goto(f"{live.url}/dee")
        field = light.get_by_label("Email", exact=True)
        assert field.evaluate("f => getComputedStyle(f).backgroundColor") == "rgb(255, 255, 255)"
