"""Sign up, log in, log out: validation, one message for every failed login, session renewal, argon2,
and the rate limits."""

from __future__ import annotations

import re
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from conexoos.app.blueprints.password_reset import TOO_MANY_LINKS
from conexoos.app.controllers import password_reset
from conexoos.app.controllers.accounts import RESERVED_MESSAGE, RESERVED_USERNAMES
from conexoos.app.controllers.password_policy import COMMON_MESSAGE
from conexoos.app.models.persistent import User
from conexoos.app.utils.rate_limit import count
from conexoos.framework import db
from tests.conftest import AppFactory

from .conftest import PASSWORD, PRODUCTION_HASHER, Account, SignUp, each, form_token, product_app

pytestmark = pytest.mark.database_matrix  # CI runs these again on PostgreSQL and MariaDB

SESSION_COOKIE = "session"


def post_signup(client: FlaskClient, **fields: str) -> TestResponse:
    data = {"email": "new@example.com", "username": "newbie", "password": PASSWORD, **fields}
    return client.post("/signup", data={"csrf_token": form_token(client.get("/signup")), **data})


def post_login(client: FlaskClient, login: str, password: str = PASSWORD, **kwargs: Any) -> TestResponse:
    token = form_token(client.get("/login", **kwargs))
    return client.post("/login", data={"csrf_token": token, "login": login, "password": password}, **kwargs)


def user_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User)) or 0


def field_errors(response: TestResponse, field: str) -> str:
    html = response.get_data(as_text=True)
    start = html.index(f'id="{field}-errors"')
    return html[start : html.index("</div>", start)]


def session_id(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(SESSION_COOKIE)
    return cookie.value if cookie else None


def is_logged_in(client: FlaskClient) -> bool:
    return client.get("/api/links").status_code == 200


# ---------------------------------------------------------------- sign up


def test_signup_creates_the_account_and_answers_check_your_inbox(app: Flask, client: FlaskClient) -> None:
    """Not logged in at once: a logged-in answer would tell a new address from one that has an account."""
    response = post_signup(client, email="  New@Example.com ", username="  NewBie ")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/signup/sent")
    assert not is_logged_in(client)
    assert "Check your inbox" in client.get("/signup/sent").get_data(as_text=True)
    with app.app_context():
        user = User.get_by_username("newbie")
        assert user is not None
        assert (user.username, user.email, user.is_admin) == ("newbie", "new@example.com", False)
        assert user.email_verified_at is None
    assert post_login(client, "newbie").status_code == 302
    assert is_logged_in(client)


def test_under_dev_check_your_inbox_says_the_mail_is_a_file_in_the_mail_folder(
    app: Flask, client: FlaskClient
) -> None:
    """Under DEV without SERVICES.smtp nothing is sent: the page said "Check your inbox" and no more."""
    assert post_signup(client).status_code == 302
    page = client.get("/signup/sent").get_data(as_text=True)
    folder = app.extensions["conexoos"].settings.instance_path / "mail"
    assert f"each one is written to a file in <code>{folder}</code>" in page


@pytest.mark.parametrize("env", ["UAT", "PROD"])
def test_outside_dev_check_your_inbox_names_no_folder(make_app: AppFactory, env: str) -> None:
    app = product_app(make_app, {"SERVER_ENV": {"ENV": env}})
    page = app.test_client().get("/signup/sent").get_data(as_text=True)
    assert "Check your inbox" in page and ".eml" not in page and "written to a file" not in page


def test_valid_usernames_are_accepted(app: Flask) -> None:
    names = ["abc", "a" * 30, "with_under.dot", "user123", "1.2_3", "UPPER_lowered"]

    def check(username: str) -> None:
        response = post_signup(
            app.test_client(), username=username, email=f"{len(username)}{username}@example.com"
        )
        assert response.status_code == 302, response.status_code
        with app.app_context():
            assert User.get_by_username(username.lower()) is not None

    each({name: name for name in names}, check)


def test_invalid_usernames_are_refused(app: Flask, client: FlaskClient) -> None:
    names = [
        "ab",
        "a" * 31,
        "has space",
        "dash-ed",
        "émile",
        "at@sign",
        "slash/x",
        "percent%",
        "",
        "<b>x</b>",
        "tab\tname",
        "emoji😀x",
    ]

    def check(username: str) -> None:
        response = post_signup(client, username=username)
        assert response.status_code == 422, response.status_code
        assert "<p>" in field_errors(response, "username")

    each({repr(name): name for name in names}, check)
    assert user_count(app) == 0
    assert not is_logged_in(client)


def test_reserved_usernames_are_refused(app: Flask, client: FlaskClient) -> None:
    names = [
        "api",
        "login",
        "admin",
        "static",
        "go",
        "dashboard",
        "signup",
        "logout",
        "media",
        "ADMIN",
        "Dashboard",
        "administrator",
        "security",
        "abuse",
        "postmaster",
        "openapi",
    ]

    def check(username: str) -> None:
        response = post_signup(client, username=username)
        assert response.status_code == 422, response.status_code
        message = field_errors(response, "username")
        assert "reserved" in message or len(username) < 3, message  # "go" already fails the length rule

    each({name: name for name in names}, check)
    assert user_count(app) == 0


def test_every_route_prefix_is_reserved(app: Flask) -> None:
    """A username equal to the first segment of a route would be shadowed by it (or shadow it)."""
    segments = {rule.rule.strip("/").split("/")[0] for rule in app.url_map.iter_rules()}
    segments = {segment for segment in segments if segment and "<" not in segment}
    assert segments <= RESERVED_USERNAMES, sorted(segments - RESERVED_USERNAMES)


@pytest.mark.parametrize("spelling", ["alice", "ALICE", "Alice"])
def test_usernames_are_unique_regardless_of_case(
    app: Flask, alice: Account, client: FlaskClient, spelling: str
) -> None:
    response = post_signup(client, username=spelling, email="other@example.com")
    assert response.status_code == 422
    assert "taken" in field_errors(response, "username")
    assert user_count(app) == 1


@pytest.mark.parametrize("email", ["alice@example.com", "ALICE@Example.COM", "Alice@example.com"])
def test_an_email_can_have_one_account(app: Flask, alice: Account, client: FlaskClient, email: str) -> None:
    """The form answers as for a new address (its owner is mailed instead, see test_signup_mail.py)."""
    response = post_signup(client, username="alice2", email=email)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/signup/sent")
    assert user_count(app) == 1
    with app.app_context():
        assert User.get_by_username("alice2") is None


def test_signup_field_validation(app: Flask, client: FlaskClient) -> None:
    cases = {
        "email not-an-email": ("email", "not-an-email"),
        "email empty": ("email", ""),
        "email a@b": ("email", "a@b"),
        "password short": ("password", "short"),
        "password empty": ("password", ""),
        "password 129": ("password", "x" * 129),
    }

    def check(case: tuple[str, str]) -> None:
        field, value = case
        response = post_signup(client, **{field: value})
        assert response.status_code == 422, response.status_code
        assert "<p>" in field_errors(response, field)

    each(cases, check)
    assert user_count(app) == 0


def test_every_problem_of_a_signup_is_told_in_one_round(
    app: Flask, alice: Account, client: FlaskClient
) -> None:
    """The username and password rules ran only once the form's own checks passed: a person fixed the
    email, sent, and only then heard that the username was taken, then that the password was common."""
    response = post_signup(client, email="not-an-email", username="admin", password="password123")
    assert response.status_code == 422
    assert "Enter a valid email address." in field_errors(response, "email")
    assert RESERVED_MESSAGE in field_errors(response, "username")
    assert COMMON_MESSAGE in field_errors(response, "password")
    focused = re.findall(r"<input[^>]*\bautofocus\b[^>]*>", response.get_data(as_text=True))
    assert len(focused) == 1 and 'name="email"' in focused[0], focused  # the first field to fix
    taken = post_signup(client, email="new@example.com", username="alice", password="qwerty12345")
    assert taken.status_code == 422
    assert "taken" in field_errors(taken, "username")
    assert COMMON_MESSAGE in field_errors(taken, "password")
    assert user_count(app) == 1


@pytest.mark.parametrize("username", ["\x00", "ali\x00ce"])
def test_a_username_its_field_refuses_never_reaches_the_database(client: FlaskClient, username: str) -> None:
    """With every problem told at once, the taken-username lookup ran on a username the form had refused:
    PostgreSQL refuses a NUL in a query's text, and the sign-up was a 500 (found by a Hypothesis test)."""
    response = post_signup(client, email="new@example.com", username=username, password="a long enough pass")
    assert response.status_code == 422
    assert field_errors(response, "username")


def test_a_refused_signup_tells_nothing_about_its_email(app: Flask, alice: Account) -> None:
    """With every problem told at once, the address's field still says nothing of an account: the page
    for alice's address and for a new one differ only in the address typed."""

    def page(email: str) -> str:
        response = post_signup(app.test_client(), email=email, username="admin", password="password123")
        assert response.status_code == 422
        html = re.sub(r'name="csrf_token"[^>]*>', "", response.get_data(as_text=True))
        return html.replace(email, "EMAIL")

    assert page("alice@example.com") == page("someone.new@example.com")
    assert user_count(app) == 1


def test_signup_without_csrf_token_is_400(app: Flask, client: FlaskClient) -> None:
    response = client.post(
        "/signup", data={"email": "x@example.com", "username": "xavier", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert user_count(app) == 0


# ---------------------------------------------------------------- passwords


def test_passwords_are_stored_as_argon2id_hashes(app: Flask, alice: Account) -> None:
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash).where(User.id == alice.id))
    assert stored is not None and stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)


def test_the_product_hasher_uses_strong_parameters() -> None:
    """Tests swap in a cheap hasher for speed; the real one must meet OWASP's argon2id minimums."""
    assert PRODUCTION_HASHER.type.name == "ID"
    assert PRODUCTION_HASHER.memory_cost >= 19 * 1024
    assert PRODUCTION_HASHER.time_cost >= 2
    assert PRODUCTION_HASHER.hash("x").startswith("$argon2id$")


def test_every_problem_of_a_new_password_is_told_in_one_round(app: Flask, alice: Account) -> None:
    """The password rules ran only once the two passwords matched: "they differ", then, sent again,
    "too common"."""
    with app.test_request_context():
        user = User.get_by_username("alice")
        assert user is not None
        path = f"/password/reset/{password_reset.reset_token(user)}"
    visitor = app.test_client()
    data = {
        "csrf_token": form_token(visitor.get(path)),
        "password": "sunshine2024",
        "confirm": "sunshine2025",
    }
    response = visitor.post(path, data=data)
    assert response.status_code == 422
    assert COMMON_MESSAGE in field_errors(response, "password")
    assert "The two passwords differ." in field_errors(response, "confirm")
    assert post_login(app.test_client(), "alice").status_code == 302  # unchanged


# ---------------------------------------------------------------- log in


def test_login_by_username_or_email(app: Flask, alice: Account) -> None:
    def check(login: str) -> None:
        client = app.test_client()
        response = post_login(client, login)
        assert response.status_code == 302, response.status_code
        assert response.headers["Location"].endswith("/dashboard")
        assert is_logged_in(client)

    each(
        {
            repr(login): login
            for login in ["alice", "ALICE", "alice@example.com", "Alice@Example.com", " alice "]
        },
        check,
    )


def test_unknown_user_and_wrong_password_read_the_same(app: Flask, alice: Account) -> None:
    unknown = post_login(app.test_client(), "nobody", PASSWORD)
    wrong = post_login(app.test_client(), "alice", "wrong password!")
    wrong_email = post_login(app.test_client(), "alice@example.com", "wrong password!")
    assert unknown.status_code == wrong.status_code == wrong_email.status_code == 401

    def alert(response: TestResponse) -> str:
        html = response.get_data(as_text=True)
        start = html.index('role="alert"')
        return html[start : html.index("</p>", start)]

    assert alert(unknown) == alert(wrong) == alert(wrong_email)
    assert "alice" not in alert(wrong)


def test_login_redirects_to_a_safe_next_only(app: Flask, alice: Account) -> None:
    for target, expected in (
        ("/dashboard/settings", "/dashboard/settings"),
        ("//evil.example/", "/dashboard"),
        ("https://evil.example/", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
    ):
        client = app.test_client()
        response = post_login(client, "alice", query_string={"next": target})
        assert response.status_code == 302
        assert response.headers["Location"] in (expected, f"http://localhost{expected}"), target


def test_login_without_csrf_token_is_400(app: Flask, alice: Account) -> None:
    client = app.test_client()
    response = client.post("/login", data={"login": "alice", "password": PASSWORD})
    assert response.status_code == 400
    assert not is_logged_in(client)


def test_the_session_id_changes_at_login(app: Flask, alice: Account) -> None:
    client = app.test_client()
    token = form_token(client.get("/login"))
    before = session_id(client)
    assert before, "the login page should start a session (it holds the CSRF secret)"
    response = client.post("/login", data={"csrf_token": token, "login": "alice", "password": PASSWORD})
    assert response.status_code == 302
    after = session_id(client)
    assert after and after != before
    # The old id is worth nothing: an attacker who planted it is not logged in.
    attacker = app.test_client()
    attacker.set_cookie(SESSION_COOKIE, before)
    assert not is_logged_in(attacker)
    assert is_logged_in(client)


def test_signup_keeps_the_anonymous_session_and_login_moves_it_to_the_server(app: Flask) -> None:
    """Sign-up logs nobody in (its session stays an anonymous signed cookie, dotted); log-in then gives a
    new server-side id."""
    client = app.test_client()
    token = form_token(client.get("/signup"))
    response = client.post(
        "/signup",
        data={"csrf_token": token, "email": "s@example.com", "username": "sess", "password": PASSWORD},
    )
    assert response.status_code == 302
    before = session_id(client)
    assert before is not None and "." in before
    assert post_login(client, "sess").status_code == 302
    after = session_id(client)
    assert after not in (None, before) and "." not in after


def test_the_session_cookie_is_http_only(alice: Account) -> None:
    cookie = alice.client.get_cookie(SESSION_COOKIE)
    assert cookie is not None and cookie.http_only


# ---------------------------------------------------------------- log out


def test_logout_is_post_only(alice: Account) -> None:
    response = alice.client.get("/logout")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert is_logged_in(alice.client)


def test_logout_requires_the_csrf_token(alice: Account) -> None:
    assert alice.client.post("/logout").status_code == 400
    assert alice.client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert is_logged_in(alice.client)


def test_logout_ends_the_session(alice: Account) -> None:
    before = session_id(alice.client)
    response = alice.client.post("/logout", data={"csrf_token": alice.csrf})
    assert response.status_code == 302
    assert not is_logged_in(alice.client)
    assert session_id(alice.client) != before
    assert alice.client.get("/dashboard").status_code == 302  # pages send you to log in


def test_pages_redirect_to_login_when_logged_out(client: FlaskClient) -> None:
    for path in ("/dashboard", "/dashboard/settings"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


# ---------------------------------------------------------------- rate limits


@pytest.fixture
def limited_app(make_app: AppFactory) -> Flask:
    """The product with its rate limits on (in memory)."""
    return make_app(
        overrides={"FLASK": {"CONFIG": {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}}}
    )


def test_the_sixth_signup_in_a_minute_from_one_ip_is_429(limited_app: Flask) -> None:
    client = limited_app.test_client()
    token = form_token(client.get("/signup"))
    statuses = []
    for n in range(6):
        response = client.post(
            "/signup",
            data={"csrf_token": token, "email": f"u{n}@example.com", "username": "x", "password": PASSWORD},
        )
        statuses.append(response.status_code)
    assert statuses == [422] * 5 + [429]
    assert response.headers["Retry-After"] == "60"
    assert "Try again in about a minute." in response.get_data(as_text=True)  # as long as Retry-After says
    other_ip = limited_app.test_client()
    other_token = form_token(other_ip.get("/signup", environ_base={"REMOTE_ADDR": "10.0.0.9"}))
    response = other_ip.post(
        "/signup",
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
        data={"csrf_token": other_token, "email": "ok@example.com", "username": "okay", "password": PASSWORD},
    )
    assert response.status_code == 302  # the limit is per IP


def test_login_is_limited_per_ip(limited_app: Flask) -> None:
    client = limited_app.test_client()
    statuses = [post_login(client, f"user{n}", "wrong password!").status_code for n in range(11)]
    assert statuses == [401] * 10 + [429]


NOT_SENT = "Nothing was sent."
NOT_LOGGED_IN = "You were not logged in."


def focused(page: str) -> list[str]:
    """The names of the page's fields marked ``autofocus``."""
    return re.findall(r'<input[^>]*\bautofocus\b[^>]*name="([^"]+)"', page) + re.findall(
        r'<input[^>]*name="([^"]+)"[^>]*\bautofocus\b', page
    )


def assert_form_again(
    response: TestResponse,
    typed: dict[str, str],
    password: bool = True,
    consequence: str = NOT_SENT,
    focus: str = "password",
) -> str:
    """``response`` is the form page again, 429 with Retry-After, saying what did not happen
    (``consequence``), with what was typed in its fields (its ``password`` field empty) and the focus on
    the first field to fill again (``focus``: the focus stayed on the page's body, outside tester); its
    fresh token."""
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "60"
    page = response.get_data(as_text=True)
    said = f"Too many attempts from your network. {consequence} Try again in about a minute."
    assert f'<p class="errors" role="alert">{said}</p>' in page
    for name, value in typed.items():
        assert re.search(rf'<input[^>]*name="{name}"[^>]*value="{re.escape(value)}"', page), name
    assert PASSWORD not in page
    assert bool(re.search(r'<input[^>]*name="password"[^>]*value=""', page)) is password
    assert focused(page) == [focus]
    return form_token(response)


def test_a_rate_limited_signup_comes_back_as_the_form_filled_in(limited_app: Flask) -> None:
    """It was a 429 error page: everything typed was lost. Still nothing is made."""
    client = limited_app.test_client()
    for n in range(5):
        assert post_signup(client, email=f"u{n}@example.com", username="x").status_code == 422
    typed = {"email": "sixth@example.com", "username": "sixth"}
    response = post_signup(client, **typed)
    token = assert_form_again(response, typed)
    assert user_count(limited_app) == 0
    elsewhere = {"REMOTE_ADDR": "10.0.0.9"}  # the same browser on another network: its token is good
    sent = client.post(
        "/signup", environ_base=elsewhere, data={"csrf_token": token, **typed, "password": PASSWORD}
    )
    assert sent.status_code == 302 and user_count(limited_app) == 1


def test_a_rate_limited_login_comes_back_as_the_form_filled_in(limited_app: Flask) -> None:
    """The right password past the limit logs nobody in, and the form keeps the login typed."""
    elsewhere = {"REMOTE_ADDR": "10.0.0.9"}
    signing_up = limited_app.test_client()
    token = form_token(signing_up.get("/signup"))
    data = {"csrf_token": token, "email": "new@example.com", "username": "newbie", "password": PASSWORD}
    assert signing_up.post("/signup", environ_base=elsewhere, data=data).status_code == 302
    client = limited_app.test_client()
    assert [post_login(client, f"user{n}", "wrong password!").status_code for n in range(10)] == [401] * 10
    # It said "Nothing was sent." (outside tester): a log-in sends nothing, it logs in.
    token = assert_form_again(post_login(client, "newbie"), {"login": "newbie"}, consequence=NOT_LOGGED_IN)
    assert not is_logged_in(client)
    nothing_typed = post_login(client, "", "")
    assert nothing_typed.status_code == 429 and focused(nothing_typed.get_data(as_text=True)) == ["login"]
    data = {"csrf_token": token, "login": "newbie", "password": PASSWORD}
    assert client.post("/login", environ_base=elsewhere, data=data).status_code == 302


def test_a_failed_login_gives_the_focus_to_the_password(app: Flask, alice: Account) -> None:
    """After "Those details do not match an account." the focus stayed on the page's body (outside
    tester); a field's own error keeps the focus on that field."""
    failed = post_login(app.test_client(), "alice", "not the password")
    assert failed.status_code == 401
    assert focused(failed.get_data(as_text=True)) == ["password"]
    assert focused(app.test_client().get("/login").get_data(as_text=True)) == []
    empty = post_login(app.test_client(), "", "")
    assert empty.status_code == 422 and focused(empty.get_data(as_text=True)) == ["login"]


def test_a_rate_limited_reset_request_comes_back_as_the_form_filled_in(limited_app: Flask) -> None:
    client = limited_app.test_client()
    token = form_token(client.get("/password/forgot"))
    for n in range(5):
        sent = client.post("/password/forgot", data={"csrf_token": token, "login": f"user{n}"})
        assert sent.status_code == 302
    refused = client.post("/password/forgot", data={"csrf_token": token, "login": "sixth@example.com"})
    assert_form_again(refused, {"login": "sixth@example.com"}, password=False, focus="login")


def test_a_sixth_reset_request_for_one_login_in_an_hour_comes_back_saying_so(limited_app: Flask) -> None:
    """The limit per login (whatever the network) is told as such; the form keeps what was typed."""
    client = limited_app.test_client()
    token = form_token(client.get("/password/forgot"))

    def ask(host: int) -> TestResponse:
        environ = {"REMOTE_ADDR": f"10.0.{host}.1"}
        return client.post(
            "/password/forgot", environ_base=environ, data={"csrf_token": token, "login": "Alice"}
        )

    assert [ask(host).status_code for host in range(5)] == [302] * 5
    refused = ask(5)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "3600"
    page = refused.get_data(as_text=True)
    assert f"{TOO_MANY_LINKS} Nothing was sent. Try again in about an hour." in page
    assert re.search(r'<input[^>]*name="login"[^>]*value="Alice"', page)


def test_a_rate_limited_new_password_comes_back_as_its_form(limited_app: Flask) -> None:
    """Before the link is read (its validity is not told past the limit): the form, saying why."""
    client = limited_app.test_client()
    data = {
        "csrf_token": form_token(client.get("/password/forgot")),
        "password": PASSWORD,
        "confirm": PASSWORD,
    }
    statuses = [client.post("/password/reset/not-a-link", data=data).status_code for _ in range(11)]
    assert statuses == [400] * 10 + [429]
    refused = client.post("/password/reset/not-a-link", data=data)
    assert_form_again(refused, {}, consequence="Your password was not changed.")  # not "Nothing was sent."


@pytest.mark.parametrize(("path", "posts"), [("/signup", 5), ("/login", 10), ("/password/forgot", 5)])
def test_rate_limit_answer_is_json_for_api_clients(limited_app: Flask, path: str, posts: int) -> None:
    client = limited_app.test_client()
    token = form_token(client.get("/signup"))
    for _ in range(posts + 1):
        response = client.post(
            path,
            data={"csrf_token": token, "login": "x", "username": "x"},
            headers={"Accept": "application/json"},
        )
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "too_many_requests"


def test_an_hourly_limit_says_to_wait_an_hour(limited_app: Flask) -> None:
    """Not "a minute" with a Retry-After of 3600: the 31st sign-up in an hour, from new minutes' budgets."""
    client = limited_app.test_client()
    token = form_token(client.get("/signup"))
    with limited_app.test_request_context(environ_base={"REMOTE_ADDR": "10.0.0.77"}):
        for _ in range(30):
            count("30/hour", "signup-ip-hour", "10.0.0.77")
    response = client.post(
        "/signup", environ_base={"REMOTE_ADDR": "10.0.0.77"}, data={"csrf_token": token, "username": "x"}
    )
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3600"
    assert "Try again in about an hour." in response.get_data(as_text=True)


def test_fixture_accounts_are_independent(alice: Account, signed_up: SignUp) -> None:
    """The helper gives each user their own logged-in client."""
    bob = signed_up("bob")
    assert alice.client is not bob.client
    assert alice.csrf != bob.csrf
    assert alice.links() == bob.links() == []


def test_a_refused_form_comes_back_with_the_focus_on_its_first_field_to_fix(
    app: Flask, client: FlaskClient
) -> None:
    """The page drawn again started its focus at the top: a keyboard user had to find the field to fix."""
    response = post_signup(client, email="not-an-email", password="short")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    focused = re.findall(r"<input[^>]*\bautofocus\b[^>]*>", page)
    assert len(focused) == 1, focused
    assert 'name="email"' in focused[0] and 'aria-invalid="true"' in focused[0], focused
    assert "autofocus" not in client.get("/signup").get_data(as_text=True)  # a fresh form: nothing to fix
