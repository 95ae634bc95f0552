"""Control characters are refused where text comes in, with the field named, never a 500.

NUL matters most: PostgreSQL can neither store it nor compare a column with it, so it would fail the query.
"""

from __future__ import annotations

import pytest
from flask import Flask

from .conftest import PASSWORD, Account, form_token

pytestmark = pytest.mark.database_matrix  # the point is PostgreSQL: CI runs these on every database

PRODUCT = {"title": "Book", "price": 100, "currency": "EUR", "buy_url": "https://shop.example/"}
CONTROLS = [pytest.param("\x00", id="nul"), pytest.param("\x1b", id="escape"), pytest.param("\x7f", id="del")]


@pytest.mark.parametrize("control", CONTROLS)
def test_api_text_fields_refuse_control_characters(alice: Account, control: str) -> None:
    link = alice.add_link()
    attempts = [
        ("POST", "/api/add/link", {"title": f"a{control}b", "url": "https://example.com/"}, "title"),
        ("PUT", f"/api/edit/link/{link['id']}", {"title": f"a{control}b"}, "title"),
        ("POST", "/api/add/link", {"title": "ok", "url": f"https://example.com/{control}"}, "url"),
        ("POST", "/api/add/product", {**PRODUCT, "title": f"a{control}"}, "title"),
        ("POST", "/api/add/product", {**PRODUCT, "description": f"line{control}"}, "description"),
    ]
    for method, path, body, field in attempts:
        response = alice.api(method, path, body)
        assert response.status_code == 422, (path, response.get_data(as_text=True))
        assert response.get_json()["error"]["field"] == field
    assert alice.links() == [link]
    assert alice.api("GET", "/api/products").get_json() == []


@pytest.mark.parametrize(
    "character",
    [
        pytest.param("\u2028", id="line-separator"),
        pytest.param("\u2029", id="paragraph-separator"),
        pytest.param("\ufffe", id="noncharacter-fffe"),
        pytest.param("\U0010ffff", id="noncharacter-10ffff"),
        pytest.param("\ufdd0", id="noncharacter-fdd0"),
    ],
)
def test_a_title_refuses_unicode_line_breaks_and_noncharacters(alice: Account, character: str) -> None:
    """They were accepted: a separator breaks a one-line title where it is shown, and a noncharacter is
    never meant to be exchanged."""
    response = alice.api("POST", "/api/add/link", {"title": f"a{character}b", "url": "https://example.com/"})
    assert response.status_code == 422 and response.get_json()["error"]["field"] == "title"
    kept = alice.api("POST", "/api/add/product", {**PRODUCT, "description": f"one{character}two"})
    if character in "\u2028\u2029":  # a line break of a text that has lines
        assert kept.status_code == 201 and kept.get_json()["description"] == f"one{character}two"
    else:
        assert kept.status_code == 422 and kept.get_json()["error"]["field"] == "description"


def test_a_description_keeps_its_line_breaks_and_a_title_of_invisible_characters_is_empty(
    alice: Account,
) -> None:
    created = alice.api("POST", "/api/add/product", {**PRODUCT, "description": "Line one\nLine two\tend"})
    assert created.status_code == 201
    assert created.get_json()["description"] == "Line one\nLine two\tend"
    invisible = alice.api("POST", "/api/add/product", {**PRODUCT, "title": "\u200b\u2060 "})
    assert invisible.status_code == 422
    assert invisible.get_json()["error"] == {
        "code": "required",
        "message": "title may not be empty",
        "field": "title",
    }
    newline_title = alice.api("POST", "/api/add/link", {"title": "a\nb", "url": "https://example.com/"})
    assert newline_title.status_code == 422


def test_forms_refuse_a_nul_with_a_message_instead_of_failing(app: Flask, alice: Account) -> None:
    visitor = app.test_client()
    signup = visitor.post(
        "/signup",
        data={
            "csrf_token": form_token(visitor.get("/signup")),
            "email": "nul\x00@example.com",
            "username": "nulled",
            "password": PASSWORD,
        },
    )
    assert signup.status_code == 422
    assert "Remove the control characters" in signup.get_data(as_text=True)

    login = visitor.post(
        "/login",
        data={"csrf_token": form_token(visitor.get("/login")), "login": "alice\x00", "password": PASSWORD},
    )
    assert login.status_code == 422
    assert "Remove the control characters" in login.get_data(as_text=True)

    settings = alice.client.post(
        "/dashboard/settings",
        data={"csrf_token": alice.csrf, "display_name": "Alice\x00", "bio": "Two\nlines"},
    )
    assert settings.status_code == 422
    assert "Remove the control characters" in settings.get_data(as_text=True)
    saved = alice.client.post(
        "/dashboard/settings", data={"csrf_token": alice.csrf, "display_name": "Alice", "bio": "Two\nlines"}
    )
    assert saved.status_code == 302
