"""A username is ASCII: a letter that only lowercases to an ASCII one (the Kelvin sign K, U+212A; the dotted
capital I, U+0130) makes another name, which no account has. ``str.lower()`` folded it into the ASCII one:
``/\u212aate`` served kate's page, from the cache too, and logged in as her."""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask

from .conftest import PASSWORD, Account, SignUp, form_token

KELVIN = "\u212a"


def test_a_lookalike_spelling_of_a_username_is_no_page(app: Flask, signed_up: SignUp) -> None:
    signed_up("kate")
    visitor = app.test_client()
    assert visitor.get("/kate").status_code == 200  # cached now
    assert visitor.get("/KATE").status_code == 200  # ASCII case is still ignored
    for spelling in (f"{KELVIN}ate", f"{KELVIN}ATE"):
        page = visitor.get("/" + quote(spelling))
        assert page.status_code == 404, spelling
        assert "kate" not in page.get_data(as_text=True).lower()
        assert visitor.get(f"/{quote(spelling)}/report").status_code == 404, spelling


def test_a_lookalike_spelling_neither_logs_in_nor_signs_up(app: Flask, signed_up: SignUp) -> None:
    signed_up("kate")
    browser = app.test_client()
    refused = browser.post(
        "/login",
        data={"csrf_token": form_token(browser.get("/login")), "login": f"{KELVIN}ate", "password": PASSWORD},
    )
    assert refused.status_code != 302
    signup = browser.post(
        "/signup",
        data={
            "csrf_token": form_token(browser.get("/signup")),
            "email": "kelvin@example.com",
            "username": f"{KELVIN}elvin",
            "password": PASSWORD,
        },
    )
    assert signup.status_code == 422 and "a-z, 0-9" in signup.get_data(as_text=True)


def test_an_account_spelled_in_capitals_still_opens_in_any_ascii_case(alice: Account, app: Flask) -> None:
    assert app.test_client().get("/ALICE").status_code == 200
    assert app.test_client().get("/Alice").status_code == 200
