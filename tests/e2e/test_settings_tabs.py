"""Settings pages open in two tabs of one browser: the tab saved last changes only what was changed in it,
and keeps what the other saved (outside tester: tab B's save put back tab A's display name and theme)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import FilePayload, Page, expect

from tests.support.live_server import LiveServer, run_live_server

from .conftest import PageFactory, sign_up


def test_a_profile_tab_left_open_keeps_the_other_tabs_display_name(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    tab_a = new_page()
    sign_up(tab_a, live_server, "ana")
    tab_b = tab_a.context.new_page()
    for tab in (tab_a, tab_b):
        tab.goto(f"{live_server.url}/dashboard/settings")
    tab_a.get_by_label("Display name").fill("Ana From Tab A")
    tab_a.get_by_role("button", name="Save").click()
    expect(tab_a.get_by_text("Profile saved. Changed: display name.")).to_be_visible()
    tab_b.get_by_label("Bio").fill("Bio from tab B")
    tab_b.get_by_role("button", name="Save").click()
    expect(tab_b.get_by_text("Profile saved. Changed: bio.")).to_be_visible()
    expect(tab_b.get_by_label("Display name")).to_have_value("Ana From Tab A")
    expect(tab_b.get_by_label("Bio")).to_have_value("Bio from tab B")


def test_an_appearance_tab_left_open_keeps_the_other_tabs_theme(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    tab_a = new_page()
    sign_up(tab_a, live_server, "ana")
    tab_b = tab_a.context.new_page()
    for tab in (tab_a, tab_b):
        tab.goto(f"{live_server.url}/settings/appearance")
    tab_a.get_by_label("Theme", exact=True).select_option("forest")
    tab_a.get_by_role("button", name="Save").click()
    expect(tab_a.get_by_text("Appearance saved. Changed: theme.")).to_be_visible()
    tab_b.get_by_label("Square", exact=True).check()
    tab_b.get_by_role("button", name="Save").click()
    expect(tab_b.get_by_text("Appearance saved. Changed: avatar shape.")).to_be_visible()
    expect(tab_b.get_by_label("Theme", exact=True)).to_have_value("forest")
    expect(tab_b.get_by_label("Square", exact=True)).to_be_checked()


def test_the_appearance_forms_shown_values_are_what_it_posts(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    """A field is left as stored when it is posted as shown: the shown values must be exactly what the
    browser sends for each input (colour inputs showing the theme's colour included), with the defaults
    and with every override; else Save without a change would not say "Nothing changed"."""
    page = new_page()
    sign_up(page, live_server, "ana")
    page.goto(f"{live_server.url}/settings/appearance")
    assert posted_and_shown(page)[0] == posted_and_shown(page)[1]
    page.get_by_label("A gradient of two colours").check()
    page.get_by_label("Background colour (the gradient starts with it)").fill("#fef3c7")
    page.get_by_label("My own colours").check()
    page.get_by_label("Text", exact=True).fill("#111111")
    page.get_by_label("Outline").check()
    page.get_by_label("Button corners", exact=False).fill("6")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Appearance saved. Changed:")).to_be_visible()
    posted, shown = posted_and_shown(page)
    assert posted == shown and shown["background_color"] == "#fef3c7" and shown["corner_radius"] == "6"
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Nothing changed.")).to_be_visible()


def posted_and_shown(page: Page) -> tuple[dict[str, str], dict[str, str]]:
    """What the appearance form would post now (its fields but the token, file and shown values) and the
    shown values it carries."""
    posted: dict[str, str] = page.eval_on_selector(
        "form.appearance-form",
        "form => Object.fromEntries([...new FormData(form)].filter(([, v]) => typeof v === 'string'))",
    )
    shown = json.loads(posted.pop("shown_values"))
    posted.pop("csrf_token")
    return posted, shown


LIMIT = 200 * 1024
"""A small ``MAX_CONTENT_LENGTH`` for the size checks: a test file over it stays small."""


@pytest.fixture
def small_limit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    overrides = {"FLASK": {"CONFIG": {"MAX_CONTENT_LENGTH": LIMIT}}}
    with run_live_server(tmp_path_factory.mktemp("small-limit"), overrides) as server:
        yield server


def too_large_png() -> FilePayload:
    return {"name": "huge.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + b"\x00" * LIMIT}


def test_a_file_over_the_request_limit_is_refused_before_the_profile_is_sent(
    small_limit: LiveServer, new_page: PageFactory
) -> None:
    """Display name and bio typed, then a file over the limit: a bare 413 page lost them (outside tester).
    The page says so under the file field and sends nothing; a smaller file is then saved."""
    page = new_page()
    sign_up(page, small_limit, "ana")
    page.goto(f"{small_limit.url}/dashboard/settings")
    page.get_by_label("Display name").fill("Ana Typed")
    page.get_by_label("Bio").fill("A bio typed carefully")
    avatar = page.get_by_label("Avatar (PNG, JPEG, WebP or GIF)")
    avatar.set_input_files(too_large_png())
    errors = page.locator("#avatar-errors")
    expect(errors).to_contain_text("“huge.png” is 0.2 MB: this site accepts at most 0.2 MB at once.")
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.get_by_role("button", name="Save").click()
    expect(avatar).to_be_focused()
    expect(avatar).to_have_attribute("aria-invalid", "true")
    assert posts == [] and page.url == f"{small_limit.url}/dashboard/settings"
    expect(page.get_by_label("Display name")).to_have_value("Ana Typed")
    expect(page.get_by_label("Bio")).to_have_value("A bio typed carefully")
    avatar.set_input_files([])
    expect(errors).to_be_empty()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Profile saved. Changed: display name and bio.")).to_be_visible()


def test_a_background_over_the_request_limit_is_refused_before_the_appearance_is_sent(
    small_limit: LiveServer, new_page: PageFactory
) -> None:
    """The error stays under the field when the live preview answers (it never sends the file)."""
    page = new_page()
    sign_up(page, small_limit, "ana")
    page.goto(f"{small_limit.url}/settings/appearance")
    page.get_by_label("An image (with a backdrop behind the text)").check()
    field = page.locator("#background_image")
    with page.expect_response(lambda response: response.url.endswith("/settings/appearance/preview")):
        field.set_input_files(too_large_png())
    expect(page.locator("#background_image-errors")).to_contain_text("this site accepts at most 0.2 MB")
    page.get_by_role("button", name="Save").click()
    expect(field).to_be_focused()
    expect(page.locator("#background_image-errors")).to_contain_text("Choose a smaller file")
    expect(page.get_by_label("An image (with a backdrop behind the text)")).to_be_checked()


def test_an_image_over_its_own_limit_is_refused_before_it_is_sent(
    live_server: LiveServer, new_page: PageFactory
) -> None:
    """A 9 MB picture passed the request's 16 MB, was sent whole and refused after as "larger than 8 MB",
    and the script had said the site took 16 MB (outside tester)."""
    page = new_page()
    sign_up(page, live_server, "ivo")
    page.goto(f"{live_server.url}/dashboard/settings")
    avatar = page.get_by_label("Avatar (PNG, JPEG, WebP or GIF)")
    nine_mb = {
        "name": "photo.png",
        "mimeType": "image/png",
        "buffer": b"\x89PNG\r\n\x1a\n" + b"\x00" * (9 << 20),
    }
    avatar.set_input_files(nine_mb)
    expect(page.locator("#avatar-errors")).to_have_text(
        "“photo.png” is 9 MB: an image may be at most 8 MB. Choose a smaller file (nothing was sent)."
    )
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.get_by_role("button", name="Save").click()
    expect(avatar).to_be_focused()
    assert posts == []
