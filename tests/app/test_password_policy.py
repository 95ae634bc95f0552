"""The password policy: 10+ characters, not one of the 10,000 most common, not built from the username or
the email; the forms and the operator command say why a password is refused."""

from __future__ import annotations

import gzip
from importlib import resources

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conexoos.app.controllers.password_policy import (
    COMMON_MESSAGE,
    common_passwords,
    password_problem,
)

from .conftest import PASSWORD, each, form_token
from .test_accounts import field_errors, user_count

USERNAME_MESSAGE = "This password is built from your username. Choose one that does not contain it."
EMAIL_MESSAGE = "This password is built from your email address. Choose one that does not contain it."


def test_the_shipped_list_holds_the_10000_most_common_passwords_with_its_source() -> None:
    data = resources.files("conexoos.app").joinpath("data")
    lines = gzip.decompress(data.joinpath("common_passwords.txt.gz").read_bytes()).decode().splitlines()
    assert len(lines) == len(set(lines)) == 10_000
    assert lines[:4] == ["123456", "123456789", "qwerty", "password"]  # most common first
    assert len(common_passwords()) == 10_000
    source = data.joinpath("COMMON_PASSWORDS_SOURCE.md").read_text()
    assert "Django 5.2.19" in source and "BSD" in source and "make_common_passwords.py" in source


def test_length_is_counted_in_characters() -> None:
    assert password_problem("ab3$ef7hi") == "Use at least 10 characters (this password has 9)."
    assert password_problem("ab3$ef7hij") is None
    assert password_problem("ééééàààçç€") is None  # ten characters, more bytes
    assert password_problem("x" * 129) == "Use at most 128 characters."


def test_common_passwords_are_refused_in_any_spelling() -> None:
    cases = {
        "as listed": "1234567890",
        "upper case": "QWERTYUIOP",
        "leet": "p@ssw0rd123",
        "digits added": "sunshine2024",
        "symbols added": "iloveyou!!!!",
        "long one": "tinkerbell",
    }
    each(cases, lambda password: _refused(password, COMMON_MESSAGE))


def test_passwords_built_from_the_username_are_refused() -> None:
    cases = {
        "contains it": "my-alicewonder-page",
        "case": "ALICEWONDER-rules",
        "reversed": "rednowecila-xyz",
        "leet": "4l1c3w0nd3r-yes",
        "digit suffix": "alicewonder2024",
        "separated": "a.l.i.c.e.w.o.n.d.e.r",
    }
    each(cases, lambda password: _refused(password, USERNAME_MESSAGE, username="alicewonder"))


def test_a_short_username_is_refused_only_as_the_whole_word() -> None:
    assert password_problem("bob1234567!", username="bob") == USERNAME_MESSAGE
    assert password_problem("bobbobbobbob", username="bob") == USERNAME_MESSAGE
    assert password_problem("kebob on a tuesday", username="bob") is None


def test_passwords_built_from_the_email_are_refused() -> None:
    email = "Maria.Lopez+links@example.org"
    cases = {
        "local part": "maria.lopez1990",
        "before the tag": "xx-maria.lopez-xx",
        "compact": "marialopez!!!",
    }
    each(cases, lambda password: _refused(password, EMAIL_MESSAGE, email=email))
    assert password_problem("example.org is mine", email=email) is None  # the domain is not the person


def test_good_passwords_pass() -> None:
    for password in (PASSWORD, "violet tractor anthem", "Xq7#mN2$pL9@"):
        assert password_problem(password, "alicewonder", "alice@example.com") is None, password


def test_signup_shows_why_a_password_is_refused(app: Flask, client: FlaskClient) -> None:
    cases = {
        "short": ("tiny pass", "Use at least 10 characters"),
        "common": ("baseball123", "10,000 most common passwords"),
        "username": ("newbie-newbie-1", "built from your username"),
        "email": ("pablo.neruda77", "built from your email address"),
    }

    def check(case: tuple[str, str]) -> None:
        password, message = case
        data = {"email": "pablo.neruda@example.com", "username": "newbie", "password": password}
        response = client.post("/signup", data={"csrf_token": form_token(client.get("/signup")), **data})
        assert response.status_code == 422
        assert message in field_errors(response, "password")

    each(cases, check)
    assert user_count(app) == 0
    page = client.get("/signup").get_data(as_text=True)
    assert "At least 10 characters; not a common password" in page  # the rule is said before the error


def _refused(password: str, message: str, username: str = "", email: str = "") -> None:
    assert password_problem(password, username, email) == message


@pytest.mark.parametrize("password", ["correct horse battery staple", "a long password"])
def test_the_passwords_the_tests_use_are_accepted(password: str) -> None:
    assert password_problem(password, "alice", "alice@example.com") is None
