"""Maintenance mode: public pages stay up, logins and sign-ups pause except for administrators, other
logged-in people get the message (503, Retry-After; JSON for the API), administrators see a banner."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from conexoos.app.controllers import site_settings
from conexoos.app.models.persistent import SiteSetting, User
from conexoos.framework import db
from tests.app.sso_support import Provider
from tests.app.staff_support import make_staff
from tests.support.soft_authenticator import SoftAuthenticator

from .conftest import PASSWORD, Account, SignUp, form_token, log_in
from .test_passkeys import ORIGIN, passkey_login, register
from .two_factor_support import enrol_totp

pytestmark = pytest.mark.database_matrix

MESSAGE = "Upgrading <the database>; back at 15:00 UTC."
BANNER = "Maintenance mode is on"


@pytest.fixture
def boss(app: Flask, signed_up: SignUp) -> Account:
    return make_staff(app, signed_up("boss"), "admin")


def switch(boss: Account, on: bool, message: str = MESSAGE) -> None:
    """Turn maintenance mode on or off through the settings form, as an administrator does."""
    form = boss.client.get("/admin/settings")
    assert form.status_code == 200
    data = {
        "csrf_token": boss.csrf,
        "site_name": "Conexoos",
        "signup_policy": "open",
        "home_text": "Hello",
        "default_plan": "gratis",
        "default_theme": "classic",
        "maintenance_message": message,
    }
    if on:
        data["maintenance_mode"] = "on"
    assert boss.client.post("/admin/settings", data=data).status_code == 302


def assert_paused(response: TestResponse, json_body: bool = False) -> None:
    status = response.status_code
    assert status == 503, status
    assert response.headers["Retry-After"] == "600"
    if json_body:
        error = response.get_json()["error"]
        assert error["code"] == "maintenance" and error["message"] == MESSAGE
    else:
        page = response.get_data(as_text=True)
        assert "Upgrading &lt;the database&gt;; back at 15:00 UTC." in page
        assert "Conexoos is in maintenance</h1>" in page  # the site's own page, not a bare error


def test_visitors_still_see_the_public_pages(
    app: Flask, boss: Account, alice: Account, client: FlaskClient
) -> None:
    link = alice.add_link("Shop", "https://shop.example/")
    switch(boss, True)
    assert client.get("/").status_code == 200
    assert client.get(f"/{alice.username}").status_code == 200
    assert client.get(f"/go/{link['id']}").status_code in (301, 302, 303, 307)
    assert client.get(f"/{alice.username}/report").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/robots.txt").status_code == 200
    assert client.get("/p/about").status_code == 404  # a site page's address is not paused (none here)
    login = client.get("/login").get_data(as_text=True)
    assert "Logins are paused for maintenance" in login and "Upgrading &lt;the database&gt;" in login
    assert BANNER not in client.get("/").get_data(as_text=True)


def test_logins_pause_except_for_administrators(
    app: Flask, boss: Account, signed_up: SignUp, client: FlaskClient
) -> None:
    signed_up("plain")
    make_staff(app, signed_up("moddy"), "moderator")
    switch(boss, True)
    for name in ("plain", "moddy"):
        browser = app.test_client()
        token = form_token(browser.get("/login"))
        refused = browser.post("/login", data={"csrf_token": token, "login": name, "password": PASSWORD})
        assert_paused(refused)
        assert browser.get("/dashboard").status_code == 302  # not logged in: sent to the login page
    admin = app.test_client()
    log_in(admin, "boss")
    assert admin.get("/admin").status_code == 200


def test_a_second_step_is_not_even_offered_and_passkeys_pause_too(
    app: Flask, boss: Account, signed_up: SignUp
) -> None:
    enrol_totp(signed_up("totty"))
    device = register(signed_up("keyed"), device=SoftAuthenticator(ORIGIN))
    switch(boss, True)
    browser = app.test_client()
    token = form_token(browser.get("/login"))
    assert_paused(browser.post("/login", data={"csrf_token": token, "login": "totty", "password": PASSWORD}))
    assert browser.get("/login/two-factor").status_code != 200
    passkey_browser, answer = passkey_login(app, device)
    assert_paused(answer, json_body=True)
    assert passkey_browser.get("/dashboard").status_code == 302


def test_sign_ups_pause_and_a_first_sso_sign_in_makes_no_account(app: Flask, signed_up: SignUp) -> None:
    provider = Provider(app).install()
    boss = make_staff(app, signed_up("boss"), "admin")
    switch(boss, True)
    client = app.test_client()
    assert_paused(client.get("/signup"))
    login_page = client.get("/login")
    assert "Create your page" not in login_page.get_data(as_text=True)  # no invitation to a paused form
    assert "/signup" not in client.get("/login?invite=abc").get_data(as_text=True)
    token = form_token(login_page)
    form = {"csrf_token": token, "email": "new@example.com", "username": "newbie", "password": PASSWORD}
    assert_paused(client.post("/signup", data=form))
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(User))
    assert_paused(provider.sign_in(app.test_client(), "s-1", username="sam", email="sam@example.com"))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == before
        assert User.get_by_username("sam") is None


def test_people_logged_in_get_the_message_on_private_pages_and_the_api(
    app: Flask, boss: Account, alice: Account, signed_up: SignUp
) -> None:
    moderator = make_staff(app, signed_up("moddy"), "moderator")
    switch(boss, True)
    for path in ("/dashboard", "/dashboard/settings", "/settings/security", "/subscriptions"):
        assert_paused(alice.client.get(path))
    assert_paused(moderator.client.get("/admin"))  # moderators are not administrators
    assert_paused(
        alice.api("POST", "/api/add/link", {"title": "x", "url": "https://x.example/"}), json_body=True
    )
    assert_paused(alice.api("GET", "/api/links"), json_body=True)
    assert alice.client.get(f"/{alice.username}").status_code == 200  # their public page is up
    assert alice.client.get("/").status_code == 200
    assert alice.client.post("/logout", data={"csrf_token": alice.csrf}).status_code == 302  # leaving works


def test_administrators_keep_working_with_a_banner_on_every_page(app: Flask, boss: Account) -> None:
    switch(boss, True)
    for path in ("/", "/dashboard", "/admin", "/admin/settings", "/admin/menus", "/settings/security"):
        response = boss.client.get(path)
        assert response.status_code == 200, path
        assert BANNER in response.get_data(as_text=True), path
    switch(boss, False)
    assert BANNER not in boss.client.get("/admin").get_data(as_text=True)


def test_turning_it_off_restores_everything(app: Flask, boss: Account, alice: Account) -> None:
    switch(boss, True)
    assert_paused(alice.client.get("/dashboard"))
    switch(boss, False)
    assert alice.client.get("/dashboard").status_code == 200
    assert app.test_client().get("/signup").status_code == 200
    log_in(app.test_client(), alice.username)


def test_another_worker_s_switch_pauses_logins_at_once_and_pages_within_the_cache_time(
    app: Flask, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A switch made by another process (written straight to the table, so this one's cache is not told):
    logins read the database and pause at once; pages read the cache and follow within CACHE_SECONDS."""
    assert alice.client.get("/dashboard").status_code == 200  # this process's cache now says "off"
    with app.app_context():
        db.session.add(SiteSetting(key="maintenance_mode", value=json.dumps(True)))
        db.session.add(SiteSetting(key="maintenance_message", value=json.dumps(MESSAGE)))
        db.session.commit()
    browser = app.test_client()
    token = form_token(browser.get("/login"))
    assert_paused(browser.post("/login", data={"csrf_token": token, "login": "alice", "password": PASSWORD}))
    assert alice.client.get("/dashboard").status_code == 200  # still the cached "off"
    later = site_settings.time.monotonic() + site_settings.CACHE_SECONDS + 1
    monkeypatch.setattr(site_settings, "time", SimpleNamespace(monotonic=lambda: later))
    assert_paused(alice.client.get("/dashboard"))
