"""A flask-framework LDAP-login project (``LDAP.login()``/``LDAP.logout()`` views, ``LDAP_*`` keys) runs
unchanged against the real slapd through Conexoos's LDAP backend."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from flask.testing import FlaskClient

from tests.conftest import AppFactory
from tests.support.ldap_server import PASSWORDS, LdapServer, running_ldap_server

from .helpers import write_files, write_project

LDAP_PROJECT = {
    "server/__init__.py": "from . import web\n",
    "server/web.py": """
        class Route(object):
            def __init__(self, server):
                import controllers
                login = controllers.web.login.Controller
                server.add_url_rule("/login", "ad-login", login.login, methods=["GET", "POST"])
                server.add_url_rule("/logout", "ad-logout", login.logout, methods=["GET", "POST"])
                server.add_url_rule("/test", "test", login.test, methods=["GET"])
                server.add_url_rule("/admin", "admin", login.admin, methods=["GET"])
    """,
    "controllers/__init__.py": "from . import web\n",
    "controllers/web/__init__.py": "from . import login\n",
    "controllers/web/login.py": """
        from flask import render_template as template
        from flask_login import current_user, login_required

        from flask_framework.Server import Process
        from flask_framework.Utils.Auth import admin_login_required
        from flask_framework.Utils.Auth.ldap import LDAP


        class Controller(object):
            @staticmethod
            def login():
                return LDAP.login()

            @staticmethod
            def logout():
                return LDAP.logout()

            @staticmethod
            @login_required
            def test():
                return template("login/success.html", user=current_user.mail)

            @staticmethod
            @admin_login_required
            def admin():
                return "admin " + current_user.uid + " " + str(Process.ldap is not None)
    """,
}
TEMPLATES = {
    "template/login/ldap.html": """
        <form action="{{ url_for('ad-login') }}" method="post">
          {{ form.hidden_tag() }} {{ form.username }} {{ form.password }} {{ form.submit }}
        </form>
        {% for message in get_flashed_messages() %}<p class="flash">{{ message }}</p>{% endfor %}
    """,
    "template/login/success.html": "<p>Welcome {{ user }}</p>\n",
}


@pytest.fixture(scope="module")
def directory() -> Iterator[LdapServer]:
    with running_ldap_server() as server:
        yield server


@pytest.fixture
def client(tmp_path: Path, directory: LdapServer, make_app: AppFactory) -> FlaskClient:
    project = write_project(tmp_path / "ldap_example", LDAP_PROJECT)
    write_files(project, TEMPLATES)
    config = {
        "SERVER_ENV": {
            "APP_NAME": "Flask",
            "APP_KEY": "l" * 48,
            "STATIC_PATH": "static",
            "TEMPLATE_PATH": "template",
            "SESSION": "filesystem",
            "INSTANCE_PATH": str(tmp_path / "instance"),
        },
        "DATABASE": {},
        "LOGINS": {"ldap": directory.section()},
        "FLASK": {
            "CONFIG": {
                "LDAP_LOGIN_TEMPLATE": "login/ldap.html",
                "LDAP_SUCCESS_REDIRECT": "test",
                "LDAP_LOGIN_VIEW": "ad-login",
            }
        },
    }
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return make_app(project, config=path, schema=False).test_client()


def log_in(client: FlaskClient, username: str, password: str) -> tuple[int, str, str]:
    form = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert match, form
    response = client.post(
        "/login", data={"csrf_token": match.group(1), "username": username, "password": password}
    )
    return response.status_code, response.headers.get("Location", ""), response.get_data(as_text=True)


def test_ldap_login_signs_in_and_out_against_slapd(client: FlaskClient) -> None:
    assert client.get("/test").status_code == 302  # Flask-Login sends strangers to LDAP_LOGIN_VIEW
    status, location, _ = log_in(client, "bob", PASSWORDS["bob"])
    assert (status, location) == (302, "/test")
    assert client.get("/test").get_data(as_text=True) == "<p>Welcome bob@example.org</p>"
    assert client.get("/admin").status_code == 302  # bob is not in admins
    assert client.get("/logout").headers["Location"] == "/login"
    assert client.get("/test").status_code == 302


def test_wrong_password_shows_the_form_again_with_a_flash(client: FlaskClient) -> None:
    status, _, page = log_in(client, "bob", "not-his-password")
    assert status == 200 and '<p class="flash">Invalid credentials</p>' in page
    assert client.get("/test").status_code == 302


def test_admin_login_required_lets_a_directory_admin_in(client: FlaskClient) -> None:
    log_in(client, "alice", PASSWORDS["alice"])
    assert client.get("/admin").get_data(as_text=True) == "admin alice True"


def test_a_post_without_the_csrf_token_is_refused(client: FlaskClient) -> None:
    response = client.post("/login", data={"username": "bob", "password": PASSWORDS["bob"]})
    assert response.status_code == 400
