"""A username can never be a file the site serves at its root, nor any route's first segment; dotted names
stay valid and existing accounts keep theirs. The site serves its own robots.txt, favicon and security.txt.
"""

from __future__ import annotations

import re

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from conexoos.app.controllers.accounts import route_prefixes, username_problem
from conexoos.app.models.persistent import User
from conexoos.app.models.persistent.base import transaction
from conexoos.framework import db

from .conftest import Account, each, post_signup

ROOT_FILES = [
    "robots.txt",
    "favicon.ico",
    "sitemap.xml",
    "ads.txt",
    "security.txt",
    "apple-touch-icon.png",
    ".well-known",
]
FILE_LIKE = [
    "humans.txt",
    "maya.json",
    "index.php",
    "wp-login.php",
    "index.html",
    "app.js",
    "style.css",
    "site.env",
    "repo.git",
    "feed.xml",
    "logo.png",
    "photo.jpg",
    "backup.sql",
    "dump.zip",
    "config.yml",
    "readme.md",
    "ROBOTS.TXT",
    "Favicon.ICO",
    ".env",
    ".git",
    ".htaccess",
    "trailing.",
    "two..dots",
]
ROUTE_PREFIXES = ["dashboard", "api", "login", "signup", "logout", "subscriptions", "stripe", "media"]
DOTTED = ["maya.draws", "j.doe", "studio.41", "ana.b.c", "x.txt2", "the_txt", "txt.maya"]


def user_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User)) or 0


def test_root_file_names_and_file_like_names_are_refused_at_signup(app: Flask) -> None:
    def check(username: str) -> None:
        # The rule itself, whatever the form's pattern (which already refuses the hyphens of some).
        assert username_problem(username.lower()) is not None
        status, html = post_signup(app.test_client(), username)
        assert status == 422, status
        errors = html[html.index('id="username-errors"') :][:400]
        assert "reserved" in errors or "dot" in errors or "3 to 30 characters" in errors, errors

    each({name: name for name in ROOT_FILES + FILE_LIKE}, check)
    assert user_count(app) == 0


def test_every_route_prefix_is_refused_even_one_added_later(app: Flask) -> None:
    """The prefixes come from the URL map itself: a route added after start-up is covered too."""
    extra = Blueprint("later", __name__)
    extra.add_url_rule("/freshroute", "fresh", lambda: "ok")
    app.register_blueprint(extra)
    prefixes = route_prefixes(app.url_map)
    assert {"freshroute", *ROUTE_PREFIXES} <= prefixes
    assert "<username>" not in prefixes and "" not in prefixes

    def check(username: str) -> None:
        status, html = post_signup(app.test_client(), username)
        assert status == 422 and "reserved" in html, status

    each({name: name for name in ["freshroute", *ROUTE_PREFIXES]}, check)
    assert user_count(app) == 0


def test_future_health_routes_are_refused_without_a_route(app: Flask) -> None:
    for name in ("healthz", "readyz"):
        assert username_problem(name) is not None


def test_the_socketio_endpoint_is_not_a_username(app: Flask) -> None:
    """/socket.io is served in front of the URL map, so no route prefix reveals it."""
    status, html = post_signup(app.test_client(), "socket.io")
    assert status == 422 and "reserved" in html, status
    assert user_count(app) == 0


def test_dotted_usernames_stay_valid(app: Flask) -> None:
    def check(username: str) -> None:
        status, html = post_signup(app.test_client(), username)
        assert status == 302, f"{status}: {re.findall(r'<p>[^<]*</p>', html)}"

    each({name: name for name in DOTTED}, check)
    assert user_count(app) == len(DOTTED)
    page = app.test_client().get("/maya.draws")
    assert page.status_code == 200


def test_an_existing_account_keeps_a_name_now_refused(app: Flask, alice: Account) -> None:
    """Rules apply to new names: an account made before them still has its page."""
    with app.app_context(), transaction():
        user = db.session.get(User, alice.id)
        assert user is not None
        user.username = "old.page.html"
    assert app.test_client().get("/old.page.html").status_code == 200
    assert app.test_client().get("/login").status_code == 200


def test_the_site_serves_its_own_root_files(app: Flask, client: FlaskClient) -> None:
    robots = client.get("/robots.txt")
    assert robots.status_code == 200 and robots.mimetype == "text/plain"
    assert "User-agent: *" in robots.get_data(as_text=True)
    assert "Disallow: /dashboard" in robots.get_data(as_text=True)

    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.get_data()[:4] == b"\x00\x00\x01\x00"  # an ICO file

    security = client.get("/.well-known/security.txt")
    assert security.status_code == 200 and security.mimetype == "text/plain"
    fields = dict(line.split(": ", 1) for line in security.get_data(as_text=True).splitlines())
    assert fields["Contact"].startswith("mailto:security@")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", fields["Expires"])
    assert fields["Canonical"].endswith("/.well-known/security.txt")
    for response in (robots, icon, security):
        assert response.headers.getlist("Set-Cookie") == []


def test_security_txt_names_the_public_address_whatever_the_host_header(
    make_app: pytest.FixtureRequest,
) -> None:
    app = make_app(overrides={"SERVER_ENV": {"PUBLIC_URL": "https://links.example.org"}})  # type: ignore[operator]
    response = app.test_client().get("/.well-known/security.txt", headers={"Host": "attacker.example"})
    text = response.get_data(as_text=True)
    assert "Contact: mailto:security@links.example.org\n" in text
    assert "Canonical: https://links.example.org/.well-known/security.txt\n" in text
    assert "attacker" not in text


def test_security_contact_comes_from_the_configuration(make_app: pytest.FixtureRequest) -> None:
    app = make_app(overrides={"SERVER_ENV": {"SECURITY_CONTACT": "https://example.org/report"}})  # type: ignore[operator]
    security = app.test_client().get("/.well-known/security.txt").get_data(as_text=True)
    assert "Contact: https://example.org/report\n" in security
    app = make_app(overrides={"SERVER_ENV": {"SECURITY_CONTACT": "sec@example.org"}})  # type: ignore[operator]
    assert "Contact: mailto:sec@example.org\n" in app.test_client().get("/.well-known/security.txt").get_data(
        as_text=True
    )
