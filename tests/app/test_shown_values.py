"""Two tabs of a settings page: a page left open saves only the fields the person changed on it, and leaves
what another tab saved since (outside tester: tab B's save put back tab A's display name and theme)."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest
from flask import Flask

from conexoos.app.controllers import appearance
from conexoos.app.models.persistent import PageAppearance, User
from conexoos.framework import db

from .conftest import Account, form_token, log_in

pytestmark = pytest.mark.database_matrix

PROFILE = "/dashboard/settings"
APPEARANCE = "/settings/appearance"


def shown_values(account: Account, url: str) -> dict[str, str]:
    """The shown values of the form ``url`` shows now (what a tab opened now carries)."""
    html = account.client.get(url).get_data(as_text=True)
    found = re.search(r'name="shown_values" value="([^"]*)"', html)
    assert found, f"{url} carries no shown values"
    shown: dict[str, str] = json.loads(unescape(found.group(1)))
    return shown


def post_profile(account: Account, shown: dict[str, str] | str | None, **fields: str) -> Any:
    """Post the profile form of a tab that showed ``shown`` (its inputs as shown, then ``fields`` typed)."""
    data: dict[str, str] = {"csrf_token": account.csrf}
    if isinstance(shown, dict):
        data.update(shown)
        data["shown_values"] = json.dumps(shown)
    elif shown is not None:
        data["shown_values"] = shown
    data.update(fields)
    return account.client.post(PROFILE, data=data, content_type="multipart/form-data")


def post_appearance(account: Account, shown: dict[str, str], **fields: str) -> Any:
    data = {"csrf_token": account.csrf, **shown, "shown_values": json.dumps(shown), "action": "save"}
    return account.client.post(APPEARANCE, data={**data, **fields}, content_type="multipart/form-data")


def profile_of(app: Flask, account: Account) -> tuple[str | None, str | None]:
    with app.app_context():
        user = User.get_by_username(account.username)
        assert user is not None
        return user.display_name, user.bio


def flash_after(account: Account, url: str) -> str:
    return account.client.get(url).get_data(as_text=True)


def test_a_profile_tab_left_open_keeps_what_another_tab_saved(app: Flask, alice: Account) -> None:
    tab_b = shown_values(alice, PROFILE)
    tab_a = shown_values(alice, PROFILE)
    assert post_profile(alice, tab_a, display_name="Ana From Tab A").status_code == 302
    saved = post_profile(alice, tab_b, bio="Bio from tab B")
    assert saved.status_code == 302
    assert profile_of(app, alice) == ("Ana From Tab A", "Bio from tab B")
    assert "Profile saved. Changed: bio." in flash_after(alice, PROFILE)


def test_a_profile_saved_unchanged_says_so_and_changes_nothing(app: Flask, alice: Account) -> None:
    """A bio shown with line breaks comes back as CRLF with a trailing space: it is the same bio."""
    assert post_profile(alice, None, display_name="Ana", bio="one\ntwo").status_code == 302
    tab = shown_values(alice, PROFILE)
    assert tab == {"display_name": "Ana", "bio": "one\ntwo"}
    assert post_profile(alice, tab, bio="one\r\ntwo ").status_code == 302
    assert "Nothing changed." in flash_after(alice, PROFILE)
    assert profile_of(app, alice) == ("Ana", "one\ntwo")


def test_the_same_profile_field_changed_in_two_tabs_keeps_the_last_save(app: Flask, alice: Account) -> None:
    tab_b = shown_values(alice, PROFILE)
    tab_a = shown_values(alice, PROFILE)
    post_profile(alice, tab_a, display_name="From A")
    post_profile(alice, tab_b, display_name="From B")
    assert profile_of(app, alice)[0] == "From B"
    assert "Profile saved. Changed: display name." in flash_after(alice, PROFILE)


@pytest.mark.parametrize(
    "garbled", ["", "not json", "[1, 2]", '{"bio": 5}', '"a string"', "[" * 100_000, '{"bio": "x"'], ids=repr
)
def test_a_missing_or_garbled_shown_values_field_saves_every_field(
    app: Flask, alice: Account, garbled: str
) -> None:
    """An old page or a hand-made post: the form still saves, everything posted, as before (never a 500)."""
    saved = post_profile(alice, garbled or None, display_name="Whole", bio="Form")
    assert saved.status_code == 302
    assert profile_of(app, alice) == ("Whole", "Form")
    assert "Profile saved." in flash_after(alice, PROFILE)


def stored_appearance(app: Flask, account: Account) -> PageAppearance:
    with app.app_context():
        row = db.session.get(PageAppearance, account.id)
        assert row is not None
        db.session.expunge(row)
        return row


def test_an_appearance_tab_left_open_keeps_what_another_tab_saved(app: Flask, alice: Account) -> None:
    tab_b = shown_values(alice, APPEARANCE)
    tab_a = shown_values(alice, APPEARANCE)
    assert tab_a["theme"] == "" and tab_a["avatar_shape"] == "circle"
    assert post_appearance(alice, tab_a, theme="forest").status_code == 302
    assert post_appearance(alice, tab_b, avatar_shape="square").status_code == 302
    row = stored_appearance(app, alice)
    assert (row.theme, row.avatar_shape) == ("forest", "square")
    assert "Appearance saved. Changed: avatar shape." in flash_after(alice, APPEARANCE)


def test_an_appearance_tab_keeps_another_tabs_colours(app: Flask, alice: Account) -> None:
    """Tab A chose a solid background; tab B, still showing the theme's, changed the font only."""
    tab_b = shown_values(alice, APPEARANCE)
    tab_a = shown_values(alice, APPEARANCE)
    post_appearance(alice, tab_a, background="solid", background_color="#fdf6e3")
    assert post_appearance(alice, tab_b, font="serif").status_code == 302
    row = stored_appearance(app, alice)
    assert (row.background, row.background_color, row.font) == ("solid", "#fdf6e3", "serif")


def test_an_appearance_saved_unchanged_says_nothing_changed(app: Flask, alice: Account) -> None:
    post_appearance(alice, shown_values(alice, APPEARANCE), theme="forest", corner_radius="8")
    tab = shown_values(alice, APPEARANCE)
    assert (tab["theme"], tab["corner_radius"]) == ("forest", "8")
    assert post_appearance(alice, tab, corner_radius=" 8 ").status_code == 302
    assert "Nothing changed." in flash_after(alice, APPEARANCE)
    assert stored_appearance(app, alice).corner_radius == 8


def test_the_appearance_pages_shown_values_are_its_inputs(alice: Account) -> None:
    """Every field the form posts is listed, as the stored choices show (``form_values``)."""
    shown = shown_values(alice, APPEARANCE)
    assert set(shown) == set(appearance.FORM_VALUES) == set(appearance.FIELD_LABELS) - {"background_image"}


def main_form_token(html: str) -> str:
    """The ``csrf_token`` of the first form in ``<main>`` (the header's Log out form has one too)."""
    main = html.split("<main", 1)[1]
    form = main.split("<form", 1)[1].split("</form>", 1)[0]
    match = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', form
    )
    assert match, form[:500]
    return match.group(1) or match.group(2)


def logged_in_again(app: Flask, account: Account) -> None:
    """Log out and in again (another tab of the same browser): the page's token is of the earlier session."""
    account.client.post("/logout", data={"csrf_token": form_token(account.client.get("/dashboard"))})
    log_in(account.client, account.username)


def test_a_profile_saved_with_a_stale_token_is_shown_again_with_what_was_typed(
    app: Flask, alice: Account
) -> None:
    """It was a bare 400 page, and the bio typed was lost (outside tester)."""
    page = alice.client.get(PROFILE)
    stale, shown = form_token(page), shown_values(alice, PROFILE)
    logged_in_again(app, alice)
    typed = {**shown, "shown_values": json.dumps(shown), "bio": "A long bio I typed carefully"}
    refused = alice.client.post(PROFILE, data={**typed, "csrf_token": stale})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "This page had expired" in html and "Check the form below and Save again." in html
    assert "A long bio I typed carefully</textarea>" in html
    assert profile_of(app, alice)[1] in (None, "")
    fresh = main_form_token(html)  # the profile form's own, not the Log out form's in the header
    assert fresh != stale
    again = {
        **typed,
        "csrf_token": fresh,
        "shown_values": unescape(re.findall(r'name="shown_values" value="([^"]*)"', html)[0]),
    }
    assert alice.client.post(PROFILE, data=again).status_code == 302
    assert profile_of(app, alice)[1] == "A long bio I typed carefully"


def test_a_forged_profile_post_from_another_site_is_not_shown_as_a_filled_form(alice: Account) -> None:
    """A filled form with a fresh token would be one click from saving what another site chose."""
    forged = alice.client.post(
        PROFILE,
        data={"csrf_token": "forged", "display_name": "pwned", "bio": "spam"},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    html = forged.get_data(as_text=True)
    assert forged.status_code == 400 and "pwned" not in html and "had expired" not in html


def test_an_appearance_saved_with_a_stale_token_is_shown_again_with_what_was_chosen(
    app: Flask, alice: Account
) -> None:
    page = alice.client.get(APPEARANCE)
    stale, shown = form_token(page), shown_values(alice, APPEARANCE)
    logged_in_again(app, alice)
    data = {
        **shown,
        "shown_values": json.dumps(shown),
        "theme": "forest",
        "action": "save",
        "csrf_token": stale,
    }
    refused = alice.client.post(APPEARANCE, data=data, content_type="multipart/form-data")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "This page had expired" in html
    assert '<option value="forest" selected>' in html
    assert main_form_token(html) != stale
    with app.app_context():
        assert db.session.get(PageAppearance, alice.id) is None


def test_an_appearance_saving_several_fields_names_each_change_once(app: Flask, alice: Account) -> None:
    """Own colours chosen with their three colours, a solid background and a font: the choice of own colours
    names the colours it brings (it said "text and button colours and text colour"), each change once; the
    site's default theme they keep is named too (it was kept without a word)."""
    saved = post_appearance(
        alice,
        shown_values(alice, APPEARANCE),
        background="solid",
        background_color="#fdf6e3",
        colors="custom",
        text_color="#111111",
        button_color="#222222",
        button_text_color="#ffffff",
        font="serif",
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert (
        "Appearance saved. Changed: theme (now Classic: the site's default today), background, "
        "background colour, colours (now your own) and font." in unescape(flash_after(alice, APPEARANCE))
    )
    assert stored_appearance(app, alice).text_color == "#111111"
    tab = shown_values(alice, APPEARANCE)
    assert post_appearance(alice, tab, text_color="#000000", corner_radius="4").status_code == 302
    assert "Appearance saved. Changed: text colour and button corners." in unescape(
        flash_after(alice, APPEARANCE)
    )
    tab = shown_values(alice, APPEARANCE)
    assert post_appearance(alice, tab, colors="theme", text_color="#333333").status_code == 302
    assert "Appearance saved. Changed: colours (now the theme&#39;s)." in flash_after(alice, APPEARANCE)
    assert stored_appearance(app, alice).text_color is None


def test_own_colours_name_the_site_default_theme_they_keep_and_nothing_false(
    app: Flask, alice: Account
) -> None:
    """A solid background kept "The site's default" as Classic without a word, and choosing the site's
    default again said "Changed: theme." each time while Classic stayed (outside tester)."""
    page = unescape(alice.client.get(APPEARANCE).get_data(as_text=True))
    assert 'aria-describedby="theme-hint theme-errors"' in page
    assert (
        "With a background or colours of your own, the site's default is saved as the theme it is today"
        in (page.split('id="theme-hint"', 1)[1])
    )
    post_appearance(alice, shown_values(alice, APPEARANCE), background="solid", background_color="#fdf6e3")
    assert stored_appearance(app, alice).theme == "classic"
    assert (
        "Appearance saved. Changed: theme (now Classic: the site's default today), background and "
        "background colour." in unescape(flash_after(alice, APPEARANCE))
    )
    for _ in range(2):
        tab = shown_values(alice, APPEARANCE)
        assert tab["theme"] == "classic"
        assert post_appearance(alice, tab, theme="").status_code == 302
        message = unescape(flash_after(alice, APPEARANCE))
        assert "Changed: theme" not in message
        assert "Nothing changed. Your own background or colours keep the Classic theme" in message
        assert stored_appearance(app, alice).theme == "classic"
    tab = shown_values(alice, APPEARANCE)
    post_appearance(alice, tab, theme="", background="theme")  # no colours of its own: follows the default
    assert stored_appearance(app, alice).theme is None
    assert "Appearance saved. Changed: theme and background." in unescape(flash_after(alice, APPEARANCE))
