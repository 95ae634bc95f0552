"""Passwords as typed: Unicode-normalised (NFKC) before hashing and checking, control characters refused
by every form that sets one (sign-up, setup, reset, change, ``conexoos user set-password``)."""

from __future__ import annotations

import unicodedata

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conexoos.app.controllers import accounts, password_policy, password_reset
from conexoos.app.models.persistent import User
from conexoos.framework import db

from .conftest import PASSWORD, Account, form_token, log_in, sign_up
from .test_accounts import post_login, post_signup, user_count
from .test_setup import admins, setup_form

COMPOSED = unicodedata.normalize("NFC", "Ünïcödé-Pässwörd-42")
DECOMPOSED = unicodedata.normalize("NFD", COMPOSED)
WITH_NUL = "ab\x00cdefghijkl"


def test_a_password_typed_composed_logs_in_typed_decomposed_and_the_other_way(app: Flask) -> None:
    assert COMPOSED != DECOMPOSED
    sign_up(app, "carla", password=COMPOSED)
    assert post_login(app.test_client(), "carla", DECOMPOSED).status_code == 302
    sign_up(app, "dmitri", password=DECOMPOSED)
    assert post_login(app.test_client(), "dmitri", COMPOSED).status_code == 302
    assert post_login(app.test_client(), "dmitri", "Unicode-Password-42").status_code == 401


def test_full_width_letters_are_the_same_password_nfkc(app: Flask) -> None:
    sign_up(app, "fumiko", password="ＦＵＬＬ-width-pass")
    assert post_login(app.test_client(), "fumiko", "FULL-width-pass").status_code == 302


def test_a_hash_made_from_the_raw_text_still_verifies_and_is_replaced(app: Flask, alice: Account) -> None:
    with app.app_context():
        user = User.get_by_username("alice")
        assert user is not None
        user.password_hash = accounts.password_hasher().hash(DECOMPOSED)  # as stored before normalisation
        db.session.commit()
    assert post_login(app.test_client(), "alice", DECOMPOSED).status_code == 302
    with app.app_context():
        user = User.get_by_username("alice")
        assert user is not None
        assert accounts.password_hasher().verify(user.password_hash, COMPOSED)  # rehashed in the normal form
    assert post_login(app.test_client(), "alice", COMPOSED).status_code == 302


def test_signup_refuses_a_password_with_a_control_character(app: Flask, client: FlaskClient) -> None:
    for password in (WITH_NUL, "abcdefgh\tijkl", "abcdefghijkl\x7f"):
        response = post_signup(client, email="eve@example.com", username="eve", password=password)
        assert response.status_code == 422, password
        assert "control characters" in response.get_data(as_text=True)
    assert user_count(app) == 0


def test_setup_refuses_a_password_with_a_control_character(app: Flask, client: FlaskClient) -> None:
    response = client.post("/setup", data=setup_form(client, password=WITH_NUL))
    assert response.status_code == 422 and "control characters" in response.get_data(as_text=True)
    assert admins(app) == []


def test_change_and_reset_refuse_a_password_with_a_control_character(app: Flask, alice: Account) -> None:
    page = alice.client.get("/settings/security")
    changed = alice.client.post(
        "/settings/security/password",
        data={
            "csrf_token": form_token(page),
            "current_password": PASSWORD,
            "new_password": WITH_NUL,
            "confirm": WITH_NUL,
        },
    )
    assert changed.status_code == 422 and "control characters" in changed.get_data(as_text=True)
    with app.app_context(), app.test_request_context():
        user = User.get_by_username("alice")
        assert user is not None
        token = password_reset.reset_token(user)
    visitor = app.test_client()
    path = f"/password/reset/{token}"
    reset = visitor.post(
        path, data={"csrf_token": form_token(visitor.get(path)), "password": WITH_NUL, "confirm": WITH_NUL}
    )
    assert reset.status_code == 422 and "control characters" in reset.get_data(as_text=True)
    log_in(app.test_client(), "alice")  # the password is unchanged


def test_the_command_refuses_a_password_with_a_control_character(app: Flask, alice: Account) -> None:
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["user", "set-password", "alice", "--password", WITH_NUL])
    assert result.exit_code == 2 and "control characters" in result.output, result.output
    log_in(app.test_client(), "alice")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=20))
def test_every_spelling_of_a_password_is_the_same_password(text: str) -> None:
    spellings = {unicodedata.normalize(form, text) for form in ("NFC", "NFD", "NFKC", "NFKD")}
    user = User(password_hash=accounts.hash_password(text))
    assert all(accounts.verify_password(user, spelling) for spelling in spellings)
    assert len({password_policy.password_problem(spelling) for spelling in spellings}) == 1
