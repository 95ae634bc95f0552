"""Text that shows nothing, or spills over the lines around it, is refused the same way in every field."""

from __future__ import annotations

import pytest
from flask import Flask

from conexoos.app.models.persistent import User
from conexoos.app.utils.text import STACKED_MARKS_MAX, has_stacked_marks, is_visible
from conexoos.framework import db

from .conftest import Account

BLANK = [
    pytest.param("\u200b\u200b\u200b", id="zero-width-spaces"),
    pytest.param("\ufeff", id="bom"),
    pytest.param("\u2800", id="braille-blank"),
    pytest.param("\u3164", id="hangul-filler"),
    pytest.param("\u115f\u1160", id="hangul-jamo-fillers"),
    pytest.param("\uffa0", id="halfwidth-hangul-filler"),
    pytest.param("\u0301\u0302", id="marks-on-nothing"),
]
ZALGO = "a" + "\u0301" * (STACKED_MARKS_MAX + 1)


@pytest.mark.parametrize("text", BLANK)
def test_text_of_blank_characters_is_not_visible(text: str) -> None:
    assert not is_visible(text) and not is_visible(f" {text} ")


def test_real_text_is_visible_and_its_accents_are_not_stacks() -> None:
    for text in ("Ana", "Nguyễn", "한글", "שָׁלוֹם", "e\u0301", "ཀྵྭ", "\u2801"):
        assert is_visible(text) and not has_stacked_marks(text), text
    assert has_stacked_marks(ZALGO) and not has_stacked_marks(ZALGO[:-1])
    assert has_stacked_marks("a" + "\u0301\u200d" * (STACKED_MARKS_MAX + 1))  # joiners between the marks


@pytest.mark.parametrize("text", BLANK)
def test_a_display_name_that_shows_nothing_is_refused(alice: Account, text: str) -> None:
    answer = alice.client.post(
        "/dashboard/settings", data={"csrf_token": alice.csrf, "display_name": text, "bio": ""}
    )
    assert answer.status_code == 422
    assert "This shows nothing (only invisible characters)" in answer.get_data(as_text=True)


@pytest.mark.parametrize("text", BLANK)
def test_an_api_title_that_shows_nothing_is_empty(alice: Account, text: str) -> None:
    answer = alice.api("POST", "/api/add/link", {"title": text, "url": "https://example.com/"})
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "required"


def test_stacked_marks_are_refused_in_forms_and_the_api(alice: Account) -> None:
    profile = alice.client.post(
        "/dashboard/settings", data={"csrf_token": alice.csrf, "display_name": "Al", "bio": ZALGO}
    )
    assert profile.status_code == 422 and "Remove the stacked accents" in profile.get_data(as_text=True)
    api = alice.api("POST", "/api/add/link", {"title": ZALGO, "url": "https://example.com/"})
    assert api.status_code == 422 and api.get_json()["error"]["code"] == "stacked_marks"


def test_a_blank_looking_name_stored_before_is_shown_as_the_username(app: Flask, alice: Account) -> None:
    with app.app_context():
        user = db.session.get(User, alice.id)
        assert user is not None
        user.display_name = "\u3164"
        db.session.commit()
    page = app.test_client().get(f"/{alice.username}").get_data(as_text=True)
    assert f"<title>{alice.username}" in page or f">{alice.username}</h1>" in page
