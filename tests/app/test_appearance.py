"""Settings → Appearance: validation of every field, the contrast refusal, CSS injection attempts, the
preview (with and without JavaScript), and what the public page then wears (theme file, hashed <style>,
favicon, share script, branding footer), still in two queries."""

from __future__ import annotations

import io
import json
import re
import threading
from html import unescape
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from sqlalchemy import select

from conexoos.app.blueprints import appearance_settings as settings_view
from conexoos.app.controllers import site_settings
from conexoos.app.controllers.appearance import Appearance, contrast_problems
from conexoos.app.controllers.themes import THEMES
from conexoos.app.models.persistent import PageAppearance, SiteSetting, User
from conexoos.app.utils.csp import style_hash
from conexoos.framework import db
from tests.support.static_urls import unhashed

from .capture_support import add_form
from .capture_support import post as capture_post
from .conftest import BROWSER_UA, Account, SignUp, product_app
from .media_support import noisy_png
from .test_public_page import selects, statements_of
from .test_uploads import encode, files_under, png_header, uploads_root

pytestmark = pytest.mark.database_matrix

URL = "/settings/appearance"
VALID: dict[str, str] = {
    "theme": "",
    "background": "solid",
    "background_color": "#fdf6e3",
    "colors": "custom",
    "text_color": "#1a1a1a",
    "button_color": "#6c2bd9",
    "button_text_color": "#ffffff",
    "button_style": "shadow",
    "corner_radius": "4",
    "font": "serif",
    "avatar_shape": "rounded",
    "action": "save",
}
INJECTIONS = [
    "red;background:url(https://evil.example/x)",
    "#fff;background:url(https://evil.example/x)",
    "</style><script>alert(1)</script>",
    "expression(alert(1))",
    "#\\66\\66\\66",
    "\\23 fff",
    "#fff}body{display:none",
    "#ff\u0000f",
    "#ｆｆｆ",
    "var(--text)",
    "rgb(0,0,0)",
]


def post(account: Account, **fields: Any) -> Any:
    data: dict[str, Any] = {"csrf_token": account.csrf, **VALID, **fields}
    return account.client.post(URL, data=data, content_type="multipart/form-data")


def row(app: Flask, account: Account) -> PageAppearance | None:
    with app.app_context():
        found = db.session.get(PageAppearance, account.id)
        if found is not None:
            db.session.expunge(found)
        return found


def style_of(html: str) -> str:
    found = re.search(r"<style>(.*?)</style>", html, re.S)
    return found.group(1) if found else ""


# ---------------------------------------------------------------- the settings page


def test_the_page_needs_a_login_and_its_form_carries_the_csrf_token(
    alice: Account, client: FlaskClient
) -> None:
    assert client.get(URL).status_code == 302
    page = alice.client.get(URL)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="csrf_token"' in html
    for theme in THEMES.values():
        assert f'value="{theme.key}"' in html
    preview = style_of(html)
    assert preview.startswith(".appearance-preview{--page:")
    assert style_hash(preview) in page.headers["Content-Security-Policy"]


def test_a_post_without_the_csrf_token_is_refused_and_saves_nothing(app: Flask, alice: Account) -> None:
    response = alice.client.post(URL, data={**VALID})
    assert response.status_code == 400 and "security token" in response.get_data(as_text=True)
    assert row(app, alice) is None


def test_valid_choices_are_saved_and_worn_by_the_public_page(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    response = post(alice, theme="ocean")
    assert response.status_code == 302, response.get_data(as_text=True)
    saved = row(app, alice)
    assert saved is not None and saved.theme == "ocean" and saved.background_color == "#fdf6e3"
    assert saved.corner_radius == 4 and saved.font == "serif" and saved.gradient_color is None
    page = client.get("/alice")
    html = unhashed(page.get_data(as_text=True))
    assert 'class="theme-ocean"' in html and "/static/css/themes/ocean.css" in html
    style = style_of(html)
    assert "--page-bg:#fdf6e3" in style and "--button:#6c2bd9" in style and "--radius:4px" in style
    assert "--avatar-radius:22%" in style and "--font:Charter," in style and "--link-shadow:" in style
    assert style_hash(style) in page.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
    assert len(selects(statements_of(app, client, "/alice"))) <= 2


def test_the_lock_pages_and_sign_up_answers_wear_the_pages_look(alice: Account, client: FlaskClient) -> None:
    """They loaded public.css alone under ``theme-classic``: every ``var(--...)`` was undefined, so the
    buttons had no background or border and the focus ring was invalid (outside tester)."""
    response = post(alice, theme="midnight", background="theme", colors="theme", button_style="outline")
    assert response.status_code == 302, response.get_data(as_text=True)
    on_page = style_of(client.get("/alice").get_data(as_text=True))
    assert "--link-bg:transparent" in on_page and "--radius:4px" in on_page
    link = alice.add_link("Members", "https://members.example/", passcode="open sesame")
    form = add_form(alice)
    lock = client.get(f"/go/{link['id']}", headers={"User-Agent": BROWSER_UA})
    token = re.search(r'name="token" value="([^"]+)"', lock.get_data(as_text=True))
    assert token is not None
    opening = client.post(
        f"/go/{link['id']}", data={"token": token.group(1), "password": "open sesame", "confirm": "yes"}
    )
    thanks = capture_post(client, form["id"], email="ana@example.com")
    refused = capture_post(client, form["id"], email="not an address")
    for name, page, status in (
        ("lock", lock, 200),
        ("opening", opening, 200),
        ("thanks", thanks, 200),
        ("refused", refused, 422),
    ):
        html = unhashed(page.get_data(as_text=True))
        assert page.status_code == status, name
        assert '<body class="theme-midnight">' in html, name
        stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
        assert stylesheets == ["/static/css/public.css", "/static/css/themes/midnight.css"], name
        assert style_of(html) == on_page, name  # the creator's overrides, the same as on the page
        assert style_hash(on_page) in page.headers["Content-Security-Policy"], name


def test_a_sign_up_answer_without_an_owner_wears_the_sites_theme(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        db.session.add(SiteSetting(key="default_theme", value=json.dumps("dark")))
        db.session.commit()
        site_settings.forget_cached()
    missing = capture_post(client, 999999, email="ana@example.com")
    html = unhashed(missing.get_data(as_text=True))
    assert missing.status_code == 404 and '<body class="theme-dark">' in html
    assert "/static/css/themes/dark.css" in html and "<style>" not in html


def test_back_to_the_theme_removes_every_override(app: Flask, alice: Account, client: FlaskClient) -> None:
    post(alice)
    assert (
        post(
            alice,
            background="theme",
            colors="theme",
            button_style="fill",
            corner_radius="",
            font="system",
            avatar_shape="circle",
        ).status_code
        == 302
    )
    html = client.get("/alice").get_data(as_text=True)
    assert "<style>" not in html
    saved = row(app, alice)
    assert saved is not None and saved.background_color is None and saved.text_color is None


@pytest.mark.parametrize("action", ["save", "preview"])
def test_a_post_naming_no_field_is_a_422_naming_them_and_resets_nothing(
    app: Flask, alice: Account, action: str
) -> None:
    assert post(alice).status_code == 302
    bare = alice.client.post(URL, data={"csrf_token": alice.csrf, "action": action})
    assert bare.status_code == 422
    html = bare.get_data(as_text=True)
    for name in ("theme", "background", "colors", "button_style", "corner_radius", "font", "avatar_shape"):
        assert f"The form sent no “{name}”" in html, name
    partial = {key: value for key, value in VALID.items() if key != "font"}
    refused = alice.client.post(URL, data={"csrf_token": alice.csrf, **partial})
    assert refused.status_code == 422 and "The form sent no “font”" in refused.get_data(as_text=True)
    saved = row(app, alice)
    assert saved is not None
    assert (saved.font, saved.button_color, saved.corner_radius) == ("serif", "#6c2bd9", 4)


COLOUR_INPUT = re.compile(r'<input type="color" id="[a-z_]+" name="[a-z_]+" value="([^"]*)"')


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_every_colour_input_holds_a_long_hex_colour(alice: Account, theme: str) -> None:
    """``<input type="color">`` takes only ``#rrggbb``: the theme's ``#fff``, a saved ``#abc`` and a refused
    answer shown again are all written so."""
    pages = [
        alice.client.get(URL),
        post(alice, theme=theme, action="preview", text_color="#abc"),
        post(alice, theme=theme, background_color="blue"),
    ]
    assert post(alice, theme=theme, text_color="#000", background_color="#fff").status_code == 302
    pages.append(alice.client.get(URL))
    for page in pages:
        values = COLOUR_INPUT.findall(page.get_data(as_text=True))
        assert len(values) == 6, page.status
        assert all(re.fullmatch(r"#[0-9a-f]{6}", value) for value in values), values
    assert "#aabbcc" in COLOUR_INPUT.findall(pages[1].get_data(as_text=True))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("background_color", "blue", '"blue" is not a colour: write it as #rgb or #rrggbb'),
        ("background_color", "\\23 fff", '"\\23 fff" is not a colour'),  # the backslash shown once
        ("background_color", "#fff\u202e", '"#fff\\u202e" is not a colour'),
        ("background_color", "#12345", "is not a colour"),
        ("text_color", "", "is not a colour"),
        ("corner_radius", "33", "from 0 to 32"),
        ("corner_radius", "-1", "from 0 to 32"),
        ("corner_radius", "4.5", "from 0 to 32"),
        ("corner_radius", "٣", "from 0 to 32"),
        ("corner_radius", "9" * 5000, "from 0 to 32"),
        ("font", "Comic Sans", "Choose one of: system, humanist, serif, rounded, mono"),
        ("theme", "neon", "Choose one of: " + ", ".join(THEMES)),
        ("background", "video", "Choose one of: theme, solid, gradient, image"),
        ("button_style", "3d", "Choose one of: fill, outline, shadow"),
        ("avatar_shape", "star", "Choose one of: circle, rounded, square"),
    ],
)
def test_each_field_is_validated_with_a_message(
    app: Flask, alice: Account, field: str, value: str, message: str
) -> None:
    response = post(alice, **{field: value})
    html = unescape(response.get_data(as_text=True))  # the message as a person reads it
    assert response.status_code == 422
    assert re.search(rf'id="{field}-errors" class="errors"><p>[^<]*{re.escape(message)}', html), html[-3000:]
    assert row(app, alice) is None


def test_a_gradient_needs_both_colours_and_a_listed_direction(app: Flask, alice: Account) -> None:
    response = post(alice, background="gradient", gradient_color="#e0f2fe", gradient_direction="sideways")
    assert (
        response.status_code == 422
        and "Choose one of: down, right, down-right, up-right" in response.get_data(as_text=True)
    )
    assert (
        post(
            alice, background="gradient", gradient_color="#e0f2fe", gradient_direction="up-right"
        ).status_code
        == 302
    )
    saved = row(app, alice)
    assert saved is not None and (saved.gradient_color, saved.gradient_direction) == ("#e0f2fe", "up-right")


# ---------------------------------------------------------------- contrast


def test_an_override_failing_aa_is_refused_with_the_measured_ratio(app: Flask, alice: Account) -> None:
    response = post(alice, background_color="#777777", text_color="#999999")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Text on background: 1.5:1, needs 4.5:1" in html
    assert row(app, alice) is None


def test_button_text_on_the_button_is_checked(alice: Account) -> None:
    response = post(alice, button_color="#6c2bd9", button_text_color="#000000")
    assert response.status_code == 422
    assert "Button text on the button: 2.9:1, needs 4.5:1" in response.get_data(as_text=True)


def test_both_ends_of_a_gradient_are_checked(alice: Account) -> None:
    response = post(alice, background="gradient", background_color="#ffffff", gradient_color="#333333")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Text on the gradient&#39;s second colour: 1.3:1, needs 4.5:1" in html
    assert "first colour" not in html


def test_an_outline_button_is_checked_on_the_page_colour(alice: Account) -> None:
    response = post(alice, button_style="outline", button_color="#fdf6e3", button_text_color="#000000")
    assert response.status_code == 422
    assert "Button text on background: 1:1, needs 4.5:1" in response.get_data(as_text=True)


def test_the_auto_theme_is_checked_in_both_schemes() -> None:
    problems = contrast_problems(Appearance(background="solid", background_color="#ffffff"), THEMES["auto"])
    assert problems == ["Text on background (dark scheme): 1.1:1, needs 4.5:1"]


def test_an_image_background_needs_a_backdrop_that_passes_and_an_image(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    without_image = post(alice, background="image", backdrop_color="#ffffff")
    assert (
        without_image.status_code == 422
        and "Choose an image for the background." in without_image.get_data(as_text=True)
    )
    dark_backdrop = post(
        alice,
        background="image",
        backdrop_color="#222222",
        background_image=(io.BytesIO(noisy_png((300, 200))), "sky.png"),
    )
    assert dark_backdrop.status_code == 422
    assert "Text on the text backdrop: 1:1, needs 4.5:1" in dark_backdrop.get_data(as_text=True)
    assert row(app, alice) is None
    saved = post(
        alice,
        background="image",
        backdrop_color="#ffffff",
        background_image=(io.BytesIO(noisy_png((300, 200))), "sky.png"),
    )
    assert saved.status_code == 302
    stored = row(app, alice)
    assert stored is not None and re.fullmatch(
        r"img/backgrounds/[0-9a-f]{32}\.webp", stored.background_image or ""
    )
    style = style_of(client.get("/alice").get_data(as_text=True))
    assert (
        f"url(/media/{stored.background_image}) center/cover no-repeat" in style
        and "--backdrop:#ffffff" in style
    )
    image = client.get(f"/media/{stored.background_image}")
    assert image.status_code == 200 and image.data[8:12] == b"WEBP"  # re-encoded, not the PNG sent


def test_an_upload_that_is_no_image_is_a_422_under_its_field(app: Flask, alice: Account) -> None:
    response = post(
        alice,
        background="image",
        backdrop_color="#ffffff",
        background_image=(io.BytesIO(b"<svg></svg>"), "x.png"),
    )
    assert response.status_code == 422
    assert 'id="background_image-errors" class="errors"><p>' in response.get_data(as_text=True)
    assert row(app, alice) is None


BAD_IMAGES = [
    pytest.param(lambda: b"just some text, not an image\n", "notes.png", "not an image", id="not-an-image"),
    pytest.param(lambda: noisy_png((300, 200))[:2000], "cut.png", "cannot be decoded", id="corrupt"),
    pytest.param(lambda: png_header(30000, 30000), "bomb.png", "pixels", id="too-many-pixels"),
    pytest.param(lambda: encode("BMP", (10, 10)), "old.bmp", "PNG, JPEG, WebP or GIF", id="wrong-type"),
]


@pytest.mark.parametrize(("make", "filename", "reason"), BAD_IMAGES)
def test_a_bad_image_and_a_failing_contrast_are_named_in_one_answer(
    app: Flask,
    alice: Account,
    make,  # type: ignore[no-untyped-def]
    filename: str,
    reason: str,
) -> None:
    """The image was read only when stored, after the contrast check: the first answer named the contrast,
    the second the image (outside tester). Nothing is stored on either refusal."""
    response = post(
        alice,
        background="image",
        backdrop_color="#222222",
        background_image=(io.BytesIO(make()), filename),
    )
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    image_errors = re.search(r'id="background_image-errors" class="errors"><p>(.*?)</p>', html, re.S)
    assert image_errors and reason in image_errors.group(1) and FILE_NOT_KEPT not in image_errors.group(1)
    assert "Text on the text backdrop: 1:1, needs 4.5:1" in html.split('id="contrast-errors"', 1)[1]
    assert "Nothing was saved: 2 problems below." in html
    assert '<a href="#background_image">Background image</a>' in html
    focused = focused_tags(html)
    assert len(focused) == 1 and 'id="background_image"' in focused[0]
    assert row(app, alice) is None and files_under(uploads_root(app)) == set()


def test_a_bad_image_is_named_beside_a_refused_field_and_its_contrast(app: Flask, alice: Account) -> None:
    response = post(
        alice,
        background="image",
        backdrop_color="#222222",
        corner_radius="99",
        background_image=(io.BytesIO(b"<svg></svg>"), "x.png"),
    )
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "Nothing was saved: 3 problems below." in html
    assert "not an image we can read" in html.split('id="background_image-errors"', 1)[1].split("</div>")[0]
    assert "The corner radius is a whole number" in html and "Text on the text backdrop: 1:1" in html
    assert row(app, alice) is None and files_under(uploads_root(app)) == set()


def test_a_missing_image_is_named_beside_a_refused_field(app: Flask, alice: Account) -> None:
    """An image background without an image was named only once the other fields were fixed."""
    response = post(alice, background="image", backdrop_color="#ffffff", corner_radius="99")
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and "Nothing was saved: 2 problems below." in html
    assert "Choose an image for the background." in html and "The corner radius is a whole number" in html
    assert row(app, alice) is None


def test_an_accepted_background_image_is_decoded_once(
    app: Flask, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked before the form is decided, the decoded and re-encoded image is what is stored: not decoded
    a second time (one decoded picture at a time: see README, Upload memory)."""
    from conexoos.app.utils import io as image_io

    decoded: list[tuple[int, int]] = []
    shrink = image_io._shrunk_first_frame

    def counted(data: bytes, size: tuple[int, int]) -> Any:
        decoded.append(size)
        return shrink(data, size)

    monkeypatch.setattr(image_io, "_shrunk_first_frame", counted)
    sky = (io.BytesIO(noisy_png((300, 200))), "sky.png")
    response = post(alice, background="image", backdrop_color="#ffffff", background_image=sky)
    assert response.status_code == 302 and decoded == [(1200, 1200)]
    stored = row(app, alice)
    assert stored is not None and files_under(uploads_root(app)) == {stored.background_image}


def test_a_background_image_over_the_request_limit_is_a_413_naming_the_field_and_linking_back(
    app: Flask, alice: Account
) -> None:
    """Without JavaScript a file over 16 MB got the generic 413 page, which named neither the field nor the
    image limit and linked only home (outside tester)."""
    assert post(alice).status_code == 302
    before = row(app, alice)
    response = post(
        alice,
        background="image",
        backdrop_color="#ffffff",
        background_image=(io.BytesIO(b"\x00" * (20 * 1024 * 1024)), "huge.png"),
    )
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 413
    assert (
        "The background image you chose is too large to send: this site takes at most 16 MB in one form, "
        "and with it this one came to about 20 MB. An image may be at most 8 MB. Nothing was saved: your "
        "appearance settings are as they were" in page
    )
    assert '<a href="/settings/appearance">Back to your appearance settings</a>' in page
    assert "MAX_CONTENT_LENGTH" not in page
    after = row(app, alice)
    assert before is not None and after is not None and after.background == before.background == "solid"
    assert files_under(uploads_root(app)) == set()
    as_json = alice.client.post(
        "/settings/appearance/preview",
        data={"csrf_token": alice.csrf, **VALID, "pad": "x" * (17 * 1024 * 1024)},
        content_type="multipart/form-data",
    )
    assert as_json.status_code == 413 and "The request is larger than 16 MB" in as_json.get_data(as_text=True)


# ---------------------------------------------------------------- CSS injection


@pytest.mark.parametrize("attempt", INJECTIONS)
def test_css_injection_in_any_colour_is_refused_and_never_reaches_the_page(
    app: Flask, alice: Account, client: FlaskClient, attempt: str
) -> None:
    for field in ("background_color", "text_color", "button_color", "button_text_color"):
        response = post(alice, **{field: attempt})
        assert response.status_code == 422, (field, attempt)
        assert "is not a colour" in response.get_data(as_text=True)
    for field, extra in (
        ("gradient_color", {"background": "gradient"}),
        ("backdrop_color", {"background": "image"}),
    ):
        assert post(alice, **extra, **{field: attempt}).status_code == 422, (field, attempt)
    for field in ("corner_radius", "font", "theme", "gradient_direction", "avatar_shape", "button_style"):
        assert (
            post(alice, background="gradient", gradient_color="#eeeeee", **{field: attempt}).status_code
            == 422
        )
    assert row(app, alice) is None
    html = client.get("/alice").get_data(as_text=True)
    assert "evil.example" not in html and "expression(" not in html and "alert(" not in html


def test_the_preview_endpoint_refuses_injection_as_json(alice: Account) -> None:
    response = alice.client.post(
        f"{URL}/preview", data={"csrf_token": alice.csrf, **VALID, "text_color": "red;x:url(//evil.example)"}
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "text_color"
    assert "is not a colour" in response.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"text_color": 5, "background": ["solid"]}', "application/json"),
        ("{not json", "application/json"),
        ("background=solid", "text/plain"),
        ("", None),
    ],
)
def test_a_body_that_is_no_form_is_a_400_saying_so(
    app: Flask, alice: Account, body: str, content_type: str | None
) -> None:
    headers = {"X-CSRFToken": alice.csrf, "Accept": "application/json"}
    preview = alice.client.post(f"{URL}/preview", data=body, content_type=content_type, headers=headers)
    assert preview.status_code == 400, preview.get_data(as_text=True)
    assert "as form fields" in preview.get_json()["error"]["message"]
    saved = alice.client.post(URL, data=body, content_type=content_type, headers={"X-CSRFToken": alice.csrf})
    assert saved.status_code == 400
    assert "as form fields" in saved.get_data(as_text=True)
    assert row(app, alice) is None


def test_an_unknown_colour_choice_is_refused_next_to_its_field(app: Flask, alice: Account) -> None:
    response = post(alice, colors="bogus")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<div id="colors-errors" class="errors"><p>Choose one of: theme, custom.</p></div>' in html
    assert row(app, alice) is None
    preview = alice.client.post(f"{URL}/preview", data={"csrf_token": alice.csrf, **VALID, "colors": "bogus"})
    assert preview.status_code == 422 and preview.get_json()["error"]["field"] == "colors"
    assert post(alice, colors="theme").status_code == 302  # the theme's colours: the custom ones are dropped
    saved = row(app, alice)
    assert saved is not None and saved.text_color is None and saved.button_color is None


def focused_tags(html: str) -> list[str]:
    """Every tag of the page marked ``autofocus``."""
    return re.findall(r"<[a-z]+\b[^>]*\bautofocus\b[^>]*>", html)


POOR_OWN_COLOURS = {
    "background": "theme",
    "colors": "custom",
    "text_color": "#eeeeee",
    "button_color": "#ffffff",
    "button_text_color": "#fefefe",
}


@pytest.mark.parametrize("hand_made", [{}, {"font": "comic"}])
def test_a_refused_save_names_every_problem_at_once_and_focuses_the_first(
    app: Flask, alice: Account, hand_made: dict[str, str]
) -> None:
    """Poor own colours with 99 in Button corners: the corners were named first, the contrast only after
    they were fixed, and the focus stayed on the body (outside tester)."""
    response = post(alice, **POOR_OWN_COLOURS, corner_radius="99", **hand_made)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert '<div id="corner_radius-errors" class="errors"><p>The corner radius is a whole number' in html
    assert (
        "Text on background: 1:1, needs 4.5:1. Button text on the button: 1:1"
        in html.split('id="contrast-errors"', 1)[1]
    )
    assert ("Choose one of: system," in html) == bool(hand_made)
    problems = 3 if hand_made else 2
    assert f"Nothing was saved: {problems} problems below." in html
    assert '<a href="#contrast-errors">' in html and '<a href="#corner_radius">Button corners</a>' in html
    focused = focused_tags(html)
    assert len(focused) == 1 and 'id="corner_radius"' in focused[0]
    assert row(app, alice) is None


def test_a_refused_colour_is_named_without_a_contrast_it_cannot_measure(alice: Account) -> None:
    response = post(alice, **{**POOR_OWN_COLOURS, "text_color": "red;x"}, corner_radius="99")
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and "needs 4.5:1" not in html
    assert "Nothing was saved: 2 problems below." in html
    focused = focused_tags(html)
    assert len(focused) == 1 and 'id="text_color"' in focused[0]  # the form's first, before the corners


def test_a_refusal_for_contrast_alone_focuses_the_summary(alice: Account) -> None:
    html = unescape(post(alice, **POOR_OWN_COLOURS).get_data(as_text=True))
    assert "Nothing was saved: 1 problem below." in html
    focused = focused_tags(html)
    assert len(focused) == 1 and 'id="form-summary"' in focused[0] and 'role="alert"' in focused[0]
    assert focused_tags(alice.client.get(URL).get_data(as_text=True)) == []  # nothing to fix


# ---------------------------------------------------------------- preview


def test_the_preview_button_shows_the_choices_without_saving(app: Flask, alice: Account) -> None:
    response = post(alice, action="preview", button_color="#b00020")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    style = style_of(html)
    assert "--button:#b00020" in style and style_hash(style) in response.headers["Content-Security-Policy"]
    assert row(app, alice) is None
    failing = post(alice, action="preview", text_color="#fdf6e3")
    assert failing.status_code == 200 and "Text on background: 1:1, needs 4.5:1" in failing.get_data(
        as_text=True
    )


FILE_NOT_KEPT = "The image you chose was not kept: choose it again before you save."


def test_a_preview_or_refusal_with_a_chosen_image_says_to_choose_it_again(app: Flask, alice: Account) -> None:
    """A page drawn again cannot hold a chosen file (browsers never fill a file input): the Preview button
    without JavaScript dropped it and said nothing (outside tester)."""
    sky = (io.BytesIO(noisy_png((300, 200))), "sky.png")
    response = post(
        alice, action="preview", background="image", backdrop_color="#ffffff", background_image=sky
    )
    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    assert f'<div id="background_image-errors" class="errors"><p>{FILE_NOT_KEPT}</p></div>' in html
    assert row(app, alice) is None  # a preview never stores an upload
    refused = post(
        alice,
        background="image",
        backdrop_color="#ffffff",
        corner_radius="99",
        background_image=(io.BytesIO(noisy_png((300, 200))), "sky.png"),
    )
    assert refused.status_code == 422 and FILE_NOT_KEPT in unescape(refused.get_data(as_text=True))
    assert row(app, alice) is None
    without_file = post(alice, action="preview", background="image", backdrop_color="#ffffff")
    assert FILE_NOT_KEPT not in unescape(without_file.get_data(as_text=True))


def test_a_preview_names_a_bad_image(app: Flask, alice: Account) -> None:
    """Preview said only "not kept: choose it again" of a file that is no image, so the person chose the
    same file again and learnt at the save that it cannot be read (outside tester)."""
    bad = (io.BytesIO(b"just some text, not an image\n"), "notes.png")
    response = post(
        alice, action="preview", background="image", backdrop_color="#222222", background_image=bad
    )
    html = unescape(response.get_data(as_text=True))
    said = html.split('id="background_image-errors"', 1)[1].split("</div>")[0]
    assert "not an image we can read" in said and FILE_NOT_KEPT not in said
    assert "Text on the text backdrop: 1:1, needs 4.5:1" in html  # the contrast too, in the same answer
    assert row(app, alice) is None and files_under(uploads_root(app)) == set()


def test_the_live_preview_answers_the_properties_and_the_problems(alice: Account) -> None:
    answer = alice.client.post(
        f"{URL}/preview", data={"csrf_token": alice.csrf, **VALID, "text_color": "#fdf6e3"}
    ).get_json()
    assert answer["properties"]["--page-bg"] == "#fdf6e3" and answer["properties"]["--backdrop"] == "initial"
    assert answer["problems"] == ["Text on background: 1:1, needs 4.5:1"]
    assert alice.client.post(f"{URL}/preview", data={**VALID}).status_code == 400  # CSRF


def test_a_live_preview_beside_the_save_keeps_its_flash(
    app: Flask, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's live preview can be in flight while the form is saved: the preview read the session
    before the save stored its "Appearance saved." flash, and must not write that older session back
    after it (the flash was lost in Chromium under load)."""
    read_stored = settings_view.appearance.stored
    opened, saved = threading.Event(), threading.Event()

    def stored_after_the_save(user: User) -> Appearance:
        if request.endpoint == "appearance_settings.preview":  # the preview's session is open by now
            opened.set()
            assert saved.wait(10), "the save did not finish"
        return read_stored(user)

    monkeypatch.setattr(settings_view.appearance, "stored", stored_after_the_save)
    previewer = app.test_client()  # the page's fetch: the same session cookie, another connection
    cookie = alice.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    previewer.set_cookie(cookie.key, cookie.value)
    answers: list[int] = []
    body = {"csrf_token": alice.csrf, **VALID, "text_color": "#222222"}
    preview = threading.Thread(
        target=lambda: answers.append(previewer.post(f"{URL}/preview", data=body).status_code)
    )
    preview.start()
    try:
        assert opened.wait(10), "the preview did not start"
        assert post(alice).status_code == 302
    finally:
        saved.set()
        preview.join(10)
    assert answers == [200]
    assert "Appearance saved." in alice.client.get(URL).get_data(as_text=True)


# ---------------------------------------------------------------- the page's head and footer


def test_the_public_page_has_a_favicon_and_the_share_script_only(alice: Account, client: FlaskClient) -> None:
    html = unhashed(client.get("/alice").get_data(as_text=True))
    assert re.search(r'<link rel="icon" href="http://localhost/static/img/default_avatar.svg">', html)
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/js/share.js" defer>']
    script = client.get("/static/js/share.js").get_data(as_text=True)
    assert "navigator.share" in script and "typeof navigator.share" in script


@pytest.mark.parametrize(("plan", "branded"), [("gratis", True), ("pro", False)])
def test_the_made_with_footer_follows_the_plan_flag(
    app: Flask, alice: Account, client: FlaskClient, plan: str, branded: bool
) -> None:
    with app.app_context():
        user = db.session.scalars(select(User).filter_by(id=alice.id)).one()
        user.subscription_plan, user.subscription_status = plan, "active"
        db.session.commit()
    html = client.get("/alice").get_data(as_text=True)
    assert ("Made with" in html) is branded
    assert 'class="report"' in html


def test_an_operator_may_remove_branding_from_the_free_plan(make_app: Any, signed_up: SignUp) -> None:
    app = product_app(make_app, {"APP": {"PLANS": {"gratis": {"MAX_LINKS": 10, "REMOVE_BRANDING": True}}}})
    from .conftest import sign_up

    sign_up(app, "carol")
    assert "Made with" not in app.test_client().get("/carol").get_data(as_text=True)


def test_a_page_served_from_the_page_cache_still_allows_its_own_style(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    assert post(alice, theme="ocean").status_code == 302
    for _ in range(3):  # the first view renders; the next ones come from the page cache
        answer = client.get("/alice")
        assert (
            style_hash(style_of(answer.get_data(as_text=True))) in answer.headers["Content-Security-Policy"]
        )


def test_colours_checked_against_the_site_default_keep_that_theme_when_the_default_changes(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    """Dark text on the default (light) theme passes; midnight made the default later must not put the
    same text on its dark background, unchecked."""
    assert post(alice, theme="", background="theme", text_color="#1c1b1a").status_code == 302
    saved = row(app, alice)
    assert saved is not None and saved.theme == "classic"  # the default it was checked against
    with app.app_context():
        db.session.add(SiteSetting(key="default_theme", value=json.dumps("midnight")))
        db.session.commit()
        site_settings.forget_cached()
    assert 'class="theme-classic"' in client.get("/alice").get_data(as_text=True)


def test_a_page_without_colours_of_its_own_follows_the_site_default(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    assert post(alice, theme="", background="theme", colors="theme").status_code == 302
    saved = row(app, alice)
    assert saved is not None and saved.theme is None


@pytest.mark.parametrize(
    ("body", "content_type", "why"),
    [
        (
            "",
            None,
            "form-data): the request's body is empty.",
        ),
        ("{}", "application/json", "form-data), not an application/json body."),
        ("x", "text/plain", "form-data), not a text/plain body."),
    ],
)
def test_a_body_that_is_no_form_is_named_in_plain_words(
    alice: Account, body: str, content_type: str | None, why: str
) -> None:
    headers = {"X-CSRFToken": alice.csrf, "Accept": "application/json"}
    preview = alice.client.post(f"{URL}/preview", data=body, content_type=content_type, headers=headers)
    assert preview.status_code == 400
    assert preview.get_json()["error"]["message"].endswith(why)
